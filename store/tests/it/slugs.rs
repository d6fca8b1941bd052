//! Look-alike slugs become distinct tenants that cannot see each other.

use store::testing::TestDb;

use crate::{context, seed_tenant};

const LOOK_ALIKES: [&str; 5] = ["a-b", "a_b", "a.b", "A-b", "á-b"];

#[tokio::test]
async fn look_alike_slugs_are_distinct_tenants() {
    let db = TestDb::new().await;
    let mut systems = Vec::new();
    for slug in LOOK_ALIKES {
        systems.push(seed_tenant(&db.store, slug).await.1);
    }

    let mut paths = Vec::new();
    for (slug, system) in LOOK_ALIKES.iter().zip(&systems) {
        let mut tx = db.store.begin(&context(slug)).await.unwrap();
        let tenants = store::tenants::list(&mut tx).await.unwrap();
        assert_eq!(tenants.len(), 1, "tenant {slug}");
        assert_eq!(tenants[0].slug, *slug);
        paths.push(tenants[0].path.clone());
        let ids: Vec<_> = store::systems::list(&mut tx)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(ids, vec![*system], "tenant {slug}");
    }
    assert_eq!(
        paths,
        vec!["a_2db", "a_5fb", "a_2eb", "_41_2db", "_c3_a1_2db"]
    );
}

#[tokio::test]
async fn longest_label_is_accepted_by_postgres() {
    let db = TestDb::new().await;
    let slug = "a".repeat(store::tenant_path::MAX_LABEL_LEN);
    let mut tx = db.store.begin(&context(&slug)).await.unwrap();
    let row = store::tenants::ensure(&mut tx, &slug).await.unwrap();
    assert_eq!(row.path, slug);
}

#[tokio::test]
async fn longest_and_deepest_paths_are_accepted_by_postgres() {
    let db = TestDb::new().await;
    let label = "b".repeat(store::tenant_path::MAX_LABEL_LEN);
    let longest = [label.as_str(); 7].join("/");
    let deepest = vec!["c"; store::tenant_path::MAX_DEPTH].join("/");
    for slug_path in [longest, deepest] {
        let mut tx = db.store.begin(&context(&slug_path)).await.unwrap();
        let row = store::tenants::ensure(&mut tx, &slug_path).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(row.slug, slug_path);
    }
}
