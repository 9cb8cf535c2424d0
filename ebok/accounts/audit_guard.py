"""The database guard that keeps both audit logs append-only (ASVS 7.3.3).

A trigger refuses UPDATE, DELETE and TRUNCATE on an audit table unless the
transaction set ``ebok.audit_rewrite`` (``audit.rewriting``) to the purpose the
statement serves: ``erasure`` may only replace logins and addresses of existing
events, ``retention`` may only delete. The function lives in the public schema;
each cooperative's table carries the triggers (copied with the template schema).
Used by the migrations of ``ebok`` and ``tenants``.
"""

FUNCTION = "public.ebok_audit_append_only"

CREATE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    purpose text := coalesce(current_setting('ebok.audit_rewrite', true), '');
BEGIN
    IF TG_OP IN ('DELETE', 'TRUNCATE') AND purpose = 'retention' THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' AND purpose = 'erasure' AND NEW.id = OLD.id AND NEW.at = OLD.at
       AND NEW.action = OLD.action AND NEW.details = OLD.details THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the audit log %.% is append-only: % refused',
        TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'See docs/decisions/0740-audited-reads-and-denials.md.';
END
$$
"""


def protect(table: str) -> str:
    return f"""
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {FUNCTION}();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}();
"""


def unprotect(table: str) -> str:
    return f"""
DROP TRIGGER IF EXISTS audit_append_only ON {table};
DROP TRIGGER IF EXISTS audit_no_truncate ON {table};
"""
