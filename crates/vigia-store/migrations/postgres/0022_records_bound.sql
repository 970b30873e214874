-- Issue #22 finding 5: sealed values name their record. Set once the store has
-- re-sealed every value a row held that did not (on opening); an older export
-- imported brings its head without it, and its rows are re-sealed on the next open.
ALTER TABLE chain_head ADD COLUMN records_bound BOOLEAN;
