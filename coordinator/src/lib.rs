//! Actor tree that runs scans: tenants, connectors, crawlers, classifier pool and writer.
