//! End-to-end tests: the real server on a random loopback port with a fresh database
//! (SQLite, and PostgreSQL when VIGIA_TEST_DATABASE_URL is set), the real `vigia`
//! binary, and headless Chromium when it is installed.

mod access;
mod api;
mod browser;
mod cases;
mod cli;
mod consents;
mod email;
mod hardening;
mod helpers;
mod imports;
mod keys;
mod lists;
mod matrix;
mod publications;
mod recommendations;
mod reports;
mod requests;
mod retention;
mod security;
mod servers;
mod statements;
mod statistics;
mod synth;
mod ui;
mod visits;
