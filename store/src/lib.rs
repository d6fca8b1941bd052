//! Postgres access for Secruna: pool, tenant-scoped transactions, repositories, audit chain, embedded cluster.
