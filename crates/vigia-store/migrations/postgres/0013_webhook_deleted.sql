-- A webhook can be deleted: it stops, leaves the lists, and its row stays (its
-- deliveries point at it and the audit log records the deletion).
ALTER TABLE webhooks ADD COLUMN deleted_at BIGINT;
