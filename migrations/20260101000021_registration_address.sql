-- The client address an account was registered from. Flags from accounts registered from one
-- address within one hour count as one person's (so a burst of throw-away accounts cannot hide
-- an item); operator-created accounts have none and count alone.
alter table users add column registered_addr inet;
create index users_registered_addr_idx on users (registered_addr, created_at) where registered_addr is not null;
