-- The audit chain's head carries a MAC under the master key (issue #22 finding 6):
-- without the key, entries cannot be appended, nor the chain rewritten and re-hashed,
-- since the head would no longer match its MAC. `keyed_from` is the entry the head
-- was first signed at: from there on, entry times never go backwards (every writer
-- now reads the clock after taking the chain). Filled, with the key, in this
-- migration's transaction.
ALTER TABLE chain_head ADD COLUMN mac TEXT;
ALTER TABLE chain_head ADD COLUMN keyed_from BIGINT;
