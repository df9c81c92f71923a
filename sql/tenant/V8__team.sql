-- Settings: the time zone must be one PostgreSQL knows (every page converts times with it).
-- The function lives in sql/app/V10__members_and_audit.sql.
create trigger settings_time_zone_check before update of time_zone on settings
    for each row when (old.time_zone is distinct from new.time_zone)
    execute function app_private.settings_time_zone_valid();

-- The audit page filters by person, action and entity, newest first.
create index audit_log_user_at_idx on audit_log (user_id, at desc);
