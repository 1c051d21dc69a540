//! Starting the app for a test, and the small vocabulary tests speak in.

use reqwest::{Client, Response, StatusCode};
use serde_json::Value;
use xietong_core::accounts::{sessions, users};
use xietong_core::permissions::{Actor, Grant, Role};
use xietong_core::registry::{frameworks, organisations};
use xietong_core::Db;
use xietong_server::Settings;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Generates one test per engine from an `async fn(TestApp)`.
#[macro_export]
macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let app = $crate::helpers::spawn($crate::helpers::Engine::Sqlite).await;
                    super::$name(app).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if !$crate::helpers::postgres_configured() {
                        eprintln!("XIETONG_TEST_POSTGRES_URL is not set: the PostgreSQL run of this test did not happen (scripts/test sets it)");
                        return;
                    }
                    let app = $crate::helpers::spawn($crate::helpers::Engine::Postgres).await;
                    super::$name(app).await;
                }
            }
        )*
    };
}

pub fn postgres_configured() -> bool {
    std::env::var("XIETONG_TEST_POSTGRES_URL").is_ok_and(|v| !v.is_empty())
}

pub struct TestApp {
    pub db: Db,
    pub url: String,
    pub database_url: String,
    pub http: Client,
}

fn unique_name() -> String {
    format!("xt_test_{:016x}", rand::random::<u64>())
}

/// A fresh, empty database on the engine: a new SQLite file or a new PostgreSQL database.
pub async fn fresh_database_url(engine: Engine) -> String {
    match engine {
        Engine::Sqlite => {
            let dir = std::env::temp_dir().join("xietong-tests");
            std::fs::create_dir_all(&dir).unwrap();
            format!(
                "sqlite://{}",
                dir.join(format!("{}.db", unique_name())).display()
            )
        }
        Engine::Postgres => {
            let admin = std::env::var("XIETONG_TEST_POSTGRES_URL").unwrap();
            let name = unique_name();
            let pool = sqlx::PgPool::connect(&admin)
                .await
                .expect("connect to the test PostgreSQL server");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
            let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap();
            format!("{base}/{name}")
        }
    }
}

/// Starts the app with the demo data on a random port.
pub async fn spawn(engine: Engine) -> TestApp {
    let url = fresh_database_url(engine).await;
    spawn_on(&url, true).await
}

/// Starts an app on an existing database (for several instances on one database).
pub async fn spawn_on(database_url: &str, demo: bool) -> TestApp {
    spawn_configured(database_url, demo, |_| {}).await
}

/// Starts an app on an existing database with settings changed by `configure`.
pub async fn spawn_configured(
    database_url: &str,
    demo: bool,
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    let mut settings = Settings {
        database_url: database_url.to_string(),
        max_connections: 8,
        max_body_bytes: 64 * 1024,
        ..Settings::default()
    };
    configure(&mut settings);
    let db = xietong_server::prepare_database(&settings)
        .await
        .expect("prepare database");
    if demo {
        xietong_server::load_demo(&db).await.expect("demo data");
    }
    let app = xietong_server::app(db.clone(), &settings).expect("app");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(xietong_server::run(listener, app, std::future::pending()));
    let http = Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp {
        db,
        url: format!("http://{addr}"),
        database_url: database_url.to_string(),
        http,
    }
}

impl TestApp {
    pub fn at(&self, path: &str) -> String {
        format!("{}{}", self.url, path)
    }

    pub async fn framework_id(&self, key: &str) -> i64 {
        frameworks::by_key(&self.db, key).await.unwrap().id
    }

    pub async fn org_id(&self, name_zh: &str) -> i64 {
        let (orgs, _) = organisations::list(
            &self.db,
            &organisations::OrganisationFilter {
                q: Some(name_zh.into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        orgs.iter()
            .find(|o| o.name_zh == name_zh)
            .unwrap_or_else(|| panic!("no organisation {name_zh}"))
            .id
    }

    /// Creates a user with one role and returns an API token for it.
    pub async fn token_for(
        &self,
        username: &str,
        role: Role,
        framework: Option<&str>,
        org: Option<i64>,
    ) -> String {
        let framework_id = match framework {
            Some(k) => Some(self.framework_id(k).await),
            None => None,
        };
        let new = users::NewUser {
            username: username.into(),
            display_name: username.into(),
            organisation_id: org,
            password: "test-password-123".into(),
            grants: vec![Grant { role, framework_id }],
        };
        users::create(&self.db, &Actor::system("test"), &new)
            .await
            .unwrap();
        let actor = users::by_username(&self.db, username).await.unwrap();
        let actor = users::actor(&self.db, actor.id).await.unwrap().unwrap();
        sessions::issue_token(&self.db, &actor, "test")
            .await
            .unwrap()
            .1
    }

    /// An API token for a demo account (they exist when the app started with the demo).
    pub async fn token_of(&self, username: &str) -> String {
        let user = users::by_username(&self.db, username).await.unwrap();
        let actor = users::actor(&self.db, user.id).await.unwrap().unwrap();
        sessions::issue_token(&self.db, &actor, "test")
            .await
            .unwrap()
            .1
    }

    pub async fn admin_token(&self) -> String {
        self.token_for("test.admin", Role::Admin, None, None).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        let mut r = self.http.get(self.at(path));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send().await.unwrap()
    }

    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: &Value,
    ) -> Response {
        self.http
            .request(method, self.at(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_json(&self, path: &str, token: &str, body: &Value) -> Response {
        self.send_json(reqwest::Method::POST, path, token, body)
            .await
    }

    /// A fingerprint of everything stored that a write could change: the audit head and the
    /// row count of every table. Equal fingerprints before and after mean nothing was written.
    pub async fn fingerprint(&self) -> Vec<(String, i64)> {
        let mut out = Vec::new();
        for table in [
            "organisations",
            "frameworks",
            "framework_parties",
            "bodies",
            "pairings",
            "users",
            "user_roles",
            "api_tokens",
            "audit_log",
            "regions",
            "calendar_days",
            "calendar_years",
        ] {
            let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(self.db.pool())
                .await
                .unwrap();
            out.push((table.to_string(), n));
        }
        let (seq, hash): (i64, String) =
            sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
                .fetch_one(self.db.pool())
                .await
                .unwrap();
        out.push((format!("audit_head {hash}"), seq));
        let (updated,): (Option<String>,) = sqlx::query_as("SELECT MAX(updated_at) FROM pairings")
            .fetch_one(self.db.pool())
            .await
            .unwrap();
        out.push((
            format!("pairings updated {}", updated.unwrap_or_default()),
            0,
        ));
        out
    }
}

/// Reads a problem+json body and checks its status and code.
pub async fn expect_problem(r: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(r.status(), status, "unexpected status");
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert!(
        ct.starts_with("application/problem+json"),
        "content type {ct}"
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], code, "problem: {body}");
    assert!(
        body["message_zh"].as_str().is_some_and(|s| !s.is_empty()),
        "Chinese message: {body}"
    );
    assert!(
        body["message_en"].as_str().is_some_and(|s| !s.is_empty()),
        "English message: {body}"
    );
    body
}

/// Signs in through the form and returns the session cookie (`name=value`).
pub async fn sign_in(app: &TestApp, username: &str, password: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = client
        .post(app.at("/login"))
        .form(&[
            ("username", username),
            ("password", password),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "sign-in of {username}");
    let set_cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("xt_session="))
        .expect("session cookie");
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"),
        "{set_cookie}"
    );
    set_cookie.split(';').next().unwrap().to_string()
}

/// The CSRF token in a page's forms.
pub fn csrf_of(page: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = page.find(marker).expect("a csrf field") + marker.len();
    page[start..start + 64].to_string()
}

/// The page at `path` as the signed-in `cookie` sees it.
pub async fn page_as(app: &TestApp, cookie: &str, path: &str) -> String {
    app.http
        .get(app.at(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Posts a form to `path` as the signed-in `cookie`.
pub async fn post_form_as(
    app: &TestApp,
    cookie: &str,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    app.http
        .post(app.at(path))
        .header("cookie", cookie)
        .form(form)
        .send()
        .await
        .unwrap()
}

/// The CSRF token of the page at `path`, for a signed-in cookie.
pub async fn csrf_on(app: &TestApp, cookie: &str, path: &str) -> String {
    csrf_of(&page_as(app, cookie, path).await)
}

/// A multipart/form-data body: `(name, file name, content)` parts. Returns the content type and
/// the body.
pub fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = format!("xt{:016x}", rand::random::<u64>());
    let mut body = Vec::new();
    for (name, file, content) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file {
            Some(f) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}
