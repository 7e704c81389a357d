-- A drop's optional waiting room (all room_ columns set, or none), and the seed its opening
-- shuffled the pre-queue with, recorded once so that every node publishes the same one.

ALTER TABLE drops ADD COLUMN room_admit_per_minute INTEGER
    CONSTRAINT drops_room_admit_per_minute_check CHECK (room_admit_per_minute >= 1);
ALTER TABLE drops ADD COLUMN room_max_active INTEGER
    CONSTRAINT drops_room_max_active_check CHECK (room_max_active >= 1);
ALTER TABLE drops ADD COLUMN room_session_minutes INTEGER
    CONSTRAINT drops_room_session_minutes_check CHECK (room_session_minutes >= 1);
ALTER TABLE drops ADD COLUMN room_prequeue_minutes INTEGER
    CONSTRAINT drops_waiting_room_check CHECK (
        room_prequeue_minutes >= 0
        AND (room_admit_per_minute IS NULL) = (room_session_minutes IS NULL)
        AND (room_admit_per_minute IS NULL) = (room_prequeue_minutes IS NULL)
        AND (room_max_active IS NULL OR room_admit_per_minute IS NOT NULL)
    );
ALTER TABLE drops ADD COLUMN queue_seed TEXT;

-- The admission job's sweep: drops with a room, by closing.
CREATE INDEX drops_with_room ON drops (closes_at) WHERE room_admit_per_minute IS NOT NULL;
