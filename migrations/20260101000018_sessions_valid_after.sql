-- Sign-ins before this moment are no longer valid: set when the password changes or is reset,
-- so every other device is signed out (sessions are checked against it on each request).
alter table users add column sessions_valid_after timestamptz;
