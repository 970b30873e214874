-- Issue #19: answers kept in memory (contradictions, "today", the analysis, list totals)
-- are worked out again when the data change. They were keyed on the audit chain's
-- length, which also grows when someone opens sealed data (each such read is audited):
-- every read of a visit's notes or a case's person made every kept answer, for every
-- organization, be worked out again. `changes` counts the writes that change records,
-- and not those reads.
ALTER TABLE access_state ADD COLUMN changes BIGINT NOT NULL DEFAULT 0;
UPDATE access_state SET changes = (SELECT seq FROM chain_head WHERE chain_head.id = 1) WHERE id = 1;
