//! A large upload's bytes, held on disk for the time of one request only.
//!
//! An import of a million attempts may take minutes to arrive from a phone. It is read
//! and checked as it arrives, and written to the database only once whole and valid, so
//! the one writer is never held waiting on a slow connection. Meanwhile the bytes wait in
//! a [`Spool`]: an anonymous temporary file (unlinked as it is made, so nothing names it
//! and the system frees it when it is closed, even after a crash), sealed in 64 KiB
//! chunks (XChaCha20-Poly1305, STREAM) under a random key that lives only in this
//! process's memory. What is left on a disk is ciphertext nobody holds the key to; a
//! chunk changed, dropped or added on disk fails the read.

use chacha20poly1305::aead::generic_array::GenericArray;
use chacha20poly1305::aead::stream::{DecryptorBE32, EncryptorBE32};
use chacha20poly1305::aead::KeyInit;
use chacha20poly1305::XChaCha20Poly1305;
use std::io::{BufReader, Read, Seek, Write};
use zeroize::Zeroizing;

/// Plaintext bytes per sealed chunk.
const CHUNK: usize = 64 * 1024;
const TAG: usize = 16;
const PREFIX: usize = 19;

fn damaged() -> std::io::Error {
    std::io::Error::other("the spooled upload could not be opened (changed on disk?)")
}

/// Bytes being written to a sealed temporary file; [`Spool::into_reader`] reads them back.
pub struct Spool {
    file: std::io::BufWriter<std::fs::File>,
    key: Zeroizing<[u8; 32]>,
    prefix: [u8; PREFIX],
    enc: EncryptorBE32<XChaCha20Poly1305>,
    pending: Zeroizing<Vec<u8>>,
    plain: u64,
}

impl Spool {
    /// A new empty spool in the system's temporary directory (`TMPDIR`).
    pub fn new() -> std::io::Result<Self> {
        let mut key = Zeroizing::new([0u8; 32]);
        let mut prefix = [0u8; PREFIX];
        getrandom::getrandom(key.as_mut()).map_err(std::io::Error::other)?;
        getrandom::getrandom(&mut prefix).map_err(std::io::Error::other)?;
        let enc =
            EncryptorBE32::from_aead(XChaCha20Poly1305::new(key.as_ref().into()), GenericArray::from_slice(&prefix));
        let file = std::io::BufWriter::new(tempfile::tempfile()?);
        Ok(Self { file, key, prefix, enc, pending: Zeroizing::new(Vec::with_capacity(CHUNK)), plain: 0 })
    }

    /// Plaintext bytes written so far.
    pub fn len(&self) -> u64 {
        self.plain
    }

    pub fn is_empty(&self) -> bool {
        self.plain == 0
    }

    /// Seals the last chunk and reads the whole back from the start.
    pub fn into_reader(mut self) -> std::io::Result<SpoolReader> {
        let last = self.enc.encrypt_last(self.pending.as_slice()).map_err(|_| damaged())?;
        self.file.write_all(&last)?;
        let mut file = self.file.into_inner().map_err(|e| e.into_error())?;
        let sealed = file.stream_position()?;
        file.rewind()?;
        let dec = DecryptorBE32::from_aead(
            XChaCha20Poly1305::new(self.key.as_ref().into()),
            GenericArray::from_slice(&self.prefix),
        );
        Ok(SpoolReader {
            file: BufReader::with_capacity(CHUNK + TAG, file),
            dec: Some(dec),
            left: sealed,
            chunk: Zeroizing::new(Vec::new()),
            at: 0,
        })
    }
}

impl Write for Spool {
    fn write(&mut self, mut buf: &[u8]) -> std::io::Result<usize> {
        let given = buf.len();
        while !buf.is_empty() {
            let take = (CHUNK - self.pending.len()).min(buf.len());
            self.pending.extend_from_slice(&buf[..take]);
            buf = &buf[take..];
            if self.pending.len() == CHUNK {
                let sealed = self.enc.encrypt_next(self.pending.as_slice()).map_err(|_| damaged())?;
                self.file.write_all(&sealed)?;
                self.pending.clear();
            }
        }
        self.plain += given as u64;
        Ok(given)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// A spool's bytes as written, each chunk checked as it is read.
pub struct SpoolReader {
    file: BufReader<std::fs::File>,
    dec: Option<DecryptorBE32<XChaCha20Poly1305>>,
    /// Sealed bytes not yet read.
    left: u64,
    chunk: Zeroizing<Vec<u8>>,
    at: usize,
}

impl Read for SpoolReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.chunk.len() {
            if self.left == 0 {
                // Every chunk read and the last one was sealed as last.
                return if self.dec.is_none() { Ok(0) } else { Err(damaged()) };
            }
            let size = (CHUNK + TAG).min(usize::try_from(self.left).unwrap_or(usize::MAX));
            let mut sealed = vec![0u8; size];
            self.file.read_exact(&mut sealed)?;
            self.left -= size as u64;
            let plain = if self.left == 0 {
                self.dec.take().ok_or_else(damaged)?.decrypt_last(sealed.as_slice())
            } else {
                self.dec.as_mut().ok_or_else(damaged)?.decrypt_next(sealed.as_slice())
            }
            .map_err(|_| damaged())?;
            self.chunk = Zeroizing::new(plain);
            self.at = 0;
        }
        let n = buf.len().min(self.chunk.len() - self.at);
        buf[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(bytes: &[u8], pieces: usize) -> Vec<u8> {
        let mut spool = Spool::new().expect("spool");
        for piece in bytes.chunks(pieces.max(1)) {
            spool.write_all(piece).expect("write");
        }
        assert_eq!(spool.len(), bytes.len() as u64);
        let mut back = Vec::new();
        spool.into_reader().expect("reader").read_to_end(&mut back).expect("read");
        back
    }

    #[test]
    fn what_is_written_reads_back_the_same_at_every_size() {
        for size in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 17] {
            let bytes: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
            for pieces in [1, 1000, CHUNK + 5] {
                assert_eq!(round_trip(&bytes, pieces), bytes, "size {size}, pieces {pieces}");
            }
        }
    }

    #[test]
    fn the_file_holds_no_plaintext() {
        let mut spool = Spool::new().expect("spool");
        let text = b"Ana Lopez, Tapachula, denied at the gate\n".repeat(4000);
        spool.write_all(&text).expect("write");
        let last = spool.enc.encrypt_next(spool.pending.as_slice()).expect("seal");
        spool.file.write_all(&last).expect("write");
        let mut file = spool.file.into_inner().expect("flush");
        file.rewind().expect("rewind");
        let mut on_disk = Vec::new();
        file.read_to_end(&mut on_disk).expect("read");
        assert!(on_disk.len() > text.len());
        assert!(!on_disk.windows(9).any(|w| w == b"Ana Lopez"), "sealed on disk");
    }

    #[test]
    fn a_byte_changed_or_a_chunk_cut_on_disk_fails_the_read() {
        let bytes = vec![7u8; 2 * CHUNK + 10];
        for cut in [false, true] {
            let mut spool = Spool::new().expect("spool");
            spool.write_all(&bytes).expect("write");
            let mut reader = spool.into_reader().expect("reader");
            let file = reader.file.get_mut();
            if cut {
                // The last chunk dropped: what is left ends on a chunk not sealed as last.
                reader.left -= 10 + TAG as u64;
            } else {
                file.seek(std::io::SeekFrom::Start(CHUNK as u64 + 40)).expect("seek");
                file.write_all(&[0xAA]).expect("write");
                file.rewind().expect("rewind");
            }
            let mut back = Vec::new();
            assert!(reader.read_to_end(&mut back).is_err(), "cut {cut}");
        }
    }
}
