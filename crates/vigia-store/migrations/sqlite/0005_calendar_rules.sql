-- Agency-declared non-working days and suspension periods (DOF), entered by admins with
-- their source. Each applies to a calendar and every calendar that extends it.

CREATE TABLE calendar_rules (
    id          INTEGER PRIMARY KEY,
    calendar    TEXT NOT NULL,
    start_date  TEXT NOT NULL,
    end_date    TEXT NOT NULL,
    label_es    TEXT NOT NULL,
    label_en    TEXT NOT NULL,
    source      TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX calendar_rules_calendar ON calendar_rules(calendar);
