-- Matthan index, schema version 2: clip lifecycle details, snapshots, officers' review, evidence holds.
-- Times are integer milliseconds since the Unix epoch (UTC). Paths are relative to the storage root.
-- Applied in one transaction by the migration runner, which records the version in schema_version.

-- Clips: start_ms/end_ms are the clip's REAL first and last media instants (the keyframe it opens on, the
-- last packet it holds), never the times that were asked for. requested_start_ms is start - pre_roll of the
-- first incident, so "the clip starts on a keyframe at or before start - pre_roll" can be checked from the
-- index. deleted_at_ms/deleted_reason record why a clip left the disk (retention, reconcile, operator);
-- flag says what reconcile or recovery found wrong with it ('' when nothing).
ALTER TABLE clips ADD COLUMN requested_start_ms INTEGER;
ALTER TABLE clips ADD COLUMN created_at_ms INTEGER;
ALTER TABLE clips ADD COLUMN finished_at_ms INTEGER;
ALTER TABLE clips ADD COLUMN deleted_at_ms INTEGER;
ALTER TABLE clips ADD COLUMN deleted_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE clips ADD COLUMN flag TEXT NOT NULL DEFAULT '';
CREATE INDEX clips_end ON clips (end_ms);

-- One row per snapshot file (an incident has at most one; retention deletes it together with the clip).
CREATE TABLE snapshots (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  incident_id    TEXT    NOT NULL UNIQUE REFERENCES incidents (id) ON DELETE CASCADE,
  camera         TEXT    NOT NULL,
  path           TEXT    NOT NULL UNIQUE,
  taken_at_ms    INTEGER NOT NULL,
  bytes          INTEGER NOT NULL DEFAULT 0,
  sha256         TEXT    NOT NULL DEFAULT '',
  state          TEXT    NOT NULL DEFAULT 'present' CHECK (state IN ('present', 'deleted')),
  deleted_at_ms  INTEGER
);
CREATE INDEX snapshots_camera ON snapshots (camera, taken_at_ms);

INSERT INTO snapshots (incident_id, camera, path, taken_at_ms)
  SELECT id, camera, snapshot, started_at_ms FROM incidents WHERE snapshot <> '';

-- The officers' review of one incident. No row means state 'new' and no evidence hold. Evidence is a
-- flag beside the state (an incident can be reviewed AND held as evidence); retention never deletes a
-- clip or snapshot of an incident held as evidence.
CREATE TABLE review (
  incident_id    TEXT    PRIMARY KEY REFERENCES incidents (id) ON DELETE CASCADE,
  state          TEXT    NOT NULL DEFAULT 'new' CHECK (state IN ('new', 'reviewed', 'false_alarm')),
  evidence       INTEGER NOT NULL DEFAULT 0 CHECK (evidence IN (0, 1)),
  note           TEXT    NOT NULL DEFAULT '',
  updated_by     TEXT    NOT NULL DEFAULT '',
  updated_at_ms  INTEGER
);
CREATE INDEX review_state ON review (state);
CREATE INDEX review_evidence ON review (evidence) WHERE evidence = 1;

-- Append-only history of every review or evidence change: who did what, when, with which note.
CREATE TABLE review_log (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  incident_id    TEXT    NOT NULL,
  action         TEXT    NOT NULL CHECK (action IN ('review', 'evidence_hold', 'evidence_release')),
  state          TEXT    NOT NULL DEFAULT '',
  note           TEXT    NOT NULL DEFAULT '',
  user           TEXT    NOT NULL DEFAULT '',
  at_ms          INTEGER NOT NULL
);
CREATE INDEX review_log_incident ON review_log (incident_id, at_ms);

-- Version 1 kept the review as one column on incidents ('evidence' was one of its values). Carry it over
-- and drop the column, so the review table is the only truth.
INSERT INTO review (incident_id, state, evidence)
  SELECT id,
         CASE review WHEN 'evidence' THEN 'reviewed' ELSE review END,
         CASE review WHEN 'evidence' THEN 1 ELSE 0 END
  FROM incidents WHERE review <> 'new';
ALTER TABLE incidents DROP COLUMN review;
