-- Matthan index, schema version 1: incidents, clips, the published event log and the schema version.
-- Times are integer milliseconds since the Unix epoch (UTC). Paths are relative to the storage root.
-- The migration runner records the version in schema_version in the same transaction.

CREATE TABLE schema_version (
  version     INTEGER PRIMARY KEY,
  applied_at  INTEGER NOT NULL
);

CREATE TABLE clips (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  path        TEXT    NOT NULL UNIQUE,
  camera      TEXT    NOT NULL,
  start_ms    INTEGER NOT NULL,
  end_ms      INTEGER NOT NULL,
  duration_s  REAL    NOT NULL DEFAULT 0,
  bytes       INTEGER NOT NULL DEFAULT 0,
  sha256      TEXT    NOT NULL DEFAULT '',
  state       TEXT    NOT NULL CHECK (state IN ('writing', 'complete', 'partial', 'deleted'))
);
CREATE INDEX clips_camera_start ON clips (camera, start_ms);
CREATE INDEX clips_state ON clips (state);

CREATE TABLE incidents (
  id             TEXT    PRIMARY KEY,
  camera         TEXT    NOT NULL,
  kind           TEXT    NOT NULL,
  label          TEXT,
  score          REAL    NOT NULL DEFAULT 0,
  box_x          REAL    NOT NULL DEFAULT 0,
  box_y          REAL    NOT NULL DEFAULT 0,
  box_w          REAL    NOT NULL DEFAULT 0,
  box_h          REAL    NOT NULL DEFAULT 0,
  started_at_ms  INTEGER NOT NULL,
  ended_at_ms    INTEGER,
  snapshot       TEXT    NOT NULL DEFAULT '',
  clip_id        INTEGER REFERENCES clips (id) ON DELETE SET NULL,
  clip_offset_s  REAL    NOT NULL DEFAULT 0,
  -- Officers' review: new | reviewed | false_alarm | evidence (evidence is never deleted by retention).
  review         TEXT    NOT NULL DEFAULT 'new' CHECK (review IN ('new', 'reviewed', 'false_alarm', 'evidence'))
);
CREATE INDEX incidents_started ON incidents (started_at_ms);
CREATE INDEX incidents_camera_started ON incidents (camera, started_at_ms);
CREATE INDEX incidents_clip ON incidents (clip_id);

-- Every published event by its node-wide sequence number, so a subscriber that saw a gap can replay it.
CREATE TABLE events (
  seq      INTEGER PRIMARY KEY,
  topic    TEXT    NOT NULL,
  payload  TEXT    NOT NULL,
  at_ms    INTEGER NOT NULL
);
CREATE INDEX events_at ON events (at_ms);
