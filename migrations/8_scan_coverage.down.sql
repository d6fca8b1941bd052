DROP TABLE IF EXISTS scan_scopes;

-- Older code knows no cancelled status: a cancelled scan did not finish.
UPDATE scans SET status = 'failed', error = COALESCE(error, 'cancelled')
    WHERE status = 'cancelled';
ALTER TABLE scans DROP CONSTRAINT scans_status_check;
ALTER TABLE scans ADD CONSTRAINT scans_status_check
    CHECK (status IN ('running', 'completed', 'partial', 'failed'));

COMMENT ON COLUMN scans.status IS 'running until finished; partial when some scopes failed but the rest completed';
