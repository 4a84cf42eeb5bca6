-- A turn stores one user and one assistant message. A gateway that retries a message append after
-- a database stall (the first attempt may still land late) must not store it twice.
CREATE UNIQUE INDEX messages_session_turn_role ON messages (session_id, turn_id, role);
