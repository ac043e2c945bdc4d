-- A verification link verifies only the address it was mailed to: each token keeps that address
-- (email), and verifying compares it with the account's current address. Changing the address
-- uses up every outstanding token of the account. Verification links issued before this
-- migration carry no address, so they are used up here; a new link can be asked for.
alter table email_tokens add column email text;
update email_tokens set used_at = now() where purpose = 'verify_email' and used_at is null;
alter table email_tokens add constraint email_tokens_email_check
    check (purpose <> 'verify_email' or email is not null) not valid;
