//! Smoke tests of the harness itself: the throwaway cluster is logical-replication ready, each
//! TestDb is its own database, and dropping one cleans up even with slots and open connections.

use rowtrail_tests::{connect, temp_data_dir, TestDb};

async fn database_exists(admin_url: &str, name: &str) -> bool {
    let admin = connect(admin_url).await;
    let row = admin
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname = $1",
            &[&name],
        )
        .await
        .unwrap();
    row.get::<_, i64>(0) == 1
}

#[tokio::test]
async fn cluster_is_logical_and_databases_work() {
    let db = TestDb::new("harness").await;
    let client = db.client().await;

    let wal_level: String = client
        .query_one("SHOW wal_level", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(wal_level, "logical");
    let current: String = client
        .query_one("SELECT current_database()", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(current, db.name);

    db.exec("CREATE TABLE shp (id bigint PRIMARY KEY, st text); INSERT INTO shp VALUES (1, 'P'), (2, 'X');")
        .await;
    let n: i64 = client
        .query_one("SELECT count(*) FROM shp", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 2);
}

#[tokio::test]
async fn each_testdb_is_a_separate_database_and_is_dropped() {
    let a = TestDb::new("harness").await;
    let b = TestDb::new("harness").await;
    assert_ne!(a.name, b.name);
    assert_ne!(a.url, b.url);

    a.exec("CREATE TABLE only_in_a (id int)").await;
    let in_b: i64 = b
        .client()
        .await
        .query_one(
            "SELECT count(*) FROM pg_class WHERE relname = 'only_in_a'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(in_b, 0);

    let (admin_url, a_name) = (a.admin_url.clone(), a.name.clone());
    assert!(database_exists(&admin_url, &a_name).await);
    drop(a);
    assert!(
        !database_exists(&admin_url, &a_name).await,
        "{a_name} survived its TestDb"
    );
    drop(b);
}

/// A logical slot blocks DROP DATABASE, and so does a connection still open: Drop handles both,
/// also on a multi-threaded runtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_removes_slots_and_open_connections() {
    let db = TestDb::new("harness_slot").await;
    db.exec("CREATE TABLE t (id int PRIMARY KEY); CREATE PUBLICATION p FOR TABLE t;")
        .await;
    let client = db.client().await;
    // Slot names are cluster-wide: derive it from the unique database name.
    let slot = format!("{}_slot", db.name);
    client
        .execute(
            "SELECT pg_create_logical_replication_slot($1, 'pgoutput')",
            &[&slot],
        )
        .await
        .unwrap();

    let admin_url = db.admin_url.clone();
    let name = db.name.clone();
    drop(db); // `client` is still connected

    assert!(
        !database_exists(&admin_url, &name).await,
        "{name} survived its TestDb"
    );
    let admin = connect(&admin_url).await;
    let slots: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1",
            &[&slot],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(slots, 0);
    assert!(client.is_closed() || client.simple_query("SELECT 1").await.is_err());
}

#[test]
fn temp_data_dir_is_removed_on_drop() {
    let dir = temp_data_dir();
    let path = dir.path().to_path_buf();
    std::fs::write(path.join("cache.sqlite"), b"x").unwrap();
    assert!(path.is_dir());
    drop(dir);
    assert!(!path.exists());
}

/// A slot in use by a walsender (here `pg_recvlogical`, streaming) cannot be dropped until the
/// walsender is gone: Drop terminates it first.
#[tokio::test]
async fn drop_ends_an_active_walsender() {
    let db = TestDb::new("harness_walsender").await;
    db.exec("CREATE TABLE t (id int PRIMARY KEY); CREATE PUBLICATION p FOR TABLE t;")
        .await;
    let slot = format!("{}_slot", db.name);
    let client = db.client().await;
    client
        .execute(
            "SELECT pg_create_logical_replication_slot($1, 'pgoutput')",
            &[&slot],
        )
        .await
        .unwrap();
    drop(client);

    let mut recv = std::process::Command::new(rowtrail_tests::pg_bin("pg_recvlogical"))
        .args([
            "--dbname",
            &db.url,
            "--slot",
            &slot,
            "--start",
            "--no-loop",
            "--file",
            "/dev/null",
        ])
        .args([
            "--option",
            "proto_version=1",
            "--option",
            "publication_names=p",
        ])
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("pg_recvlogical starts");

    let admin = connect(&db.admin_url).await;
    let mut active = false;
    for _ in 0..100 {
        let row = admin
            .query_one(
                "SELECT active FROM pg_replication_slots WHERE slot_name = $1",
                &[&slot],
            )
            .await
            .unwrap();
        active = row.get(0);
        if active {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(active, "pg_recvlogical never took the slot");

    let (admin_url, name) = (db.admin_url.clone(), db.name.clone());
    drop(db);
    assert!(
        !database_exists(&admin_url, &name).await,
        "{name} survived its TestDb"
    );

    // The walsender was terminated, so pg_recvlogical (--no-loop) exits by itself.
    let mut exited = false;
    for _ in 0..100 {
        if recv.try_wait().unwrap().is_some() {
            exited = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    if !exited {
        let _ = recv.kill();
        let _ = recv.wait();
    }
    assert!(exited, "pg_recvlogical still streaming after the drop");
}
