-- Recovery codes are now 80-bit codes stored as keyed hashes (HMAC-SHA256 with a key derived from
-- the portal's secret key) instead of bare SHA-256. Codes stored the old way cannot be converted:
-- they are removed, and the security page shows that no codes are left until new ones are made.
delete from user_recovery_codes;
