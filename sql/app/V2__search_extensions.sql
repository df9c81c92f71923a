-- Accent- and case-insensitive search: pg_trgm and unaccent (both trusted extensions, so the
-- schema owner can create them) in a schema of their own, and one immutable folding function
-- used by every search index and query.
create schema if not exists ext;
create extension if not exists pg_trgm with schema ext;
create extension if not exists unaccent with schema ext;

-- Immutable wrapper (unaccent itself is only STABLE because its dictionary could change); fully
-- qualified and without SET clauses so the planner can inline it into index expressions.
create function app.fold(text) returns text
    language sql immutable parallel safe strict
    as $$ select lower(ext.unaccent('ext.unaccent'::regdictionary, $1)) $$;
