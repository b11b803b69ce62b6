//! The answers of the fake's routes, from its state, as GitHub gives them: authentication
//! (tokens, App JWTs, installation tokens and their scopes), statuses, pull request files with
//! pagination, commits, contents, installations and access tokens.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{Value, json};

use crate::model::{IssuedToken, JwtClaims, PostedStatus, Route, State};

/// An answer: status, headers, body.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub(crate) fn json(status: u16, value: &Value) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json; charset=utf-8".into())],
            body: value.to_string().into_bytes(),
        }
    }

    /// GitHub's error body.
    pub(crate) fn error(status: u16, message: &str) -> Self {
        Self::json(
            status,
            &json!({"message": message, "documentation_url": "https://docs.github.com/rest", "status": status.to_string()}),
        )
    }

    fn header(mut self, name: &str, value: String) -> Self {
        self.headers.push((name.to_owned(), value));
        self
    }
}

/// A request, as the routes see it.
#[derive(Debug)]
pub(crate) struct Req<'a> {
    pub route: Route,
    /// The path's segments under the API prefix, percent-decoded.
    pub segments: Vec<String>,
    pub query: Option<&'a str>,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
    /// The fake's API URL (for links).
    pub base_url: &'a str,
}

impl Req<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn query(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(self.query.unwrap_or("").as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    fn bearer(&self) -> Option<&str> {
        let value = self.header("authorization")?;
        value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("token ")).map(str::trim)
    }
}

/// The permissions of the fake's App (and of its unscoped installation tokens).
fn app_permissions() -> BTreeMap<String, String> {
    [("contents", "read"), ("metadata", "read"), ("pull_requests", "read"), ("statuses", "write")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// The route of a method and API path, with the path's segments.
pub(crate) fn route_of(method: &str, segments: &[String]) -> Option<Route> {
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    let route = match (method, s.as_slice()) {
        ("POST", ["repos", _, _, "statuses", _]) => Route::Statuses,
        ("GET", ["repos", _, _, "pulls", _, "files"]) => Route::PullFiles,
        ("GET", ["repos", _, _, "git", "commits", _] | ["repos", _, _, "commits", _]) => {
            Route::Commit
        }
        ("GET", ["repos", _, _, "contents", _, ..]) => Route::Contents,
        ("GET", ["repos", _, _, "installation"]) => Route::Installation,
        ("POST", ["app", "installations", _, "access_tokens"]) => Route::AccessTokens,
        _ => return None,
    };
    Some(route)
}

/// The answer to `req`.
pub(crate) fn answer(state: &mut State, req: &Req<'_>) -> Answer {
    let auth = match req.route {
        Route::Installation | Route::AccessTokens => check_jwt(state, req).map(|_| ()),
        Route::Statuses => check_repo_access(state, req, "statuses", "write"),
        Route::PullFiles => check_repo_access(state, req, "pull_requests", "read"),
        Route::Commit | Route::Contents => check_repo_access(state, req, "contents", "read"),
        Route::Any => Ok(()),
    };
    if let Err(answer) = auth {
        return answer;
    }
    match req.route {
        Route::Statuses => post_status(state, req),
        Route::PullFiles => pull_files(state, req),
        Route::Commit => commit(state, req),
        Route::Contents => contents(state, req),
        Route::Installation => installation(state, req),
        Route::AccessTokens => access_token(state, req),
        Route::Any => Answer::error(404, "Not Found"),
    }
}

fn check_jwt(state: &mut State, req: &Req<'_>) -> Result<JwtClaims, Answer> {
    let refuse = |m: &str| Answer::error(401, m);
    let Some(app) = &state.app else { return Err(refuse("A JSON web token could not be decoded")) };
    let jwt = req.bearer().ok_or_else(|| refuse("A JSON web token could not be decoded"))?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<Value>(jwt, &app.decoding_key, &validation)
        .map_err(|_| refuse("A JSON web token could not be decoded"))?;
    let claims = data.claims;
    let int = |k: &str| claims.get(k).and_then(Value::as_i64);
    let iss = match claims.get("iss") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(refuse("'Issuer' claim ('iss') must be an Integer")),
    };
    let (Some(iat), Some(exp)) = (int("iat"), int("exp")) else {
        return Err(refuse("'Issued at' and 'Expiration time' claims must be integers"));
    };
    let now = state.now_s();
    if iss != app.id.to_string() {
        return Err(refuse("Integration not found"));
    }
    if iat > now + 1 {
        return Err(refuse(
            "'Issued at' claim ('iat') must be an Integer representing a time in the past",
        ));
    }
    if exp <= now {
        return Err(refuse(
            "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
        ));
    }
    if exp - iat > 600 {
        return Err(refuse("'Expiration time' claim ('exp') is too far in the future"));
    }
    let claims = JwtClaims { iss, iat, exp };
    state.jwts.push(claims.clone());
    Ok(claims)
}

fn check_repo_access(
    state: &State,
    req: &Req<'_>,
    permission: &str,
    level: &str,
) -> Result<(), Answer> {
    let token = req.bearer().ok_or_else(|| Answer::error(401, "Requires authentication"))?;
    let (owner, name) = (&req.segments[1], &req.segments[2]);
    let not_found = || Answer::error(404, "Not Found");
    let repo = state.repo(owner, name).ok_or_else(not_found)?;
    if state.tokens.contains(token) {
        return Ok(());
    }
    let issued =
        state.issued.iter().find(|t| t.token == token).filter(|_| !state.revoked.contains(token));
    let Some(issued) = issued.filter(|t| t.expires_at_s > state.now_s()) else {
        return Err(Answer::error(401, "Bad credentials"));
    };
    if repo.installation != Some(issued.installation_id) {
        return Err(not_found());
    }
    if let Some(repos) = &issued.repositories
        && !repos.iter().any(|r| r.eq_ignore_ascii_case(name))
    {
        return Err(not_found());
    }
    let granted = issued.permissions.clone().unwrap_or_else(app_permissions);
    let ok = granted.get(permission).is_some_and(|g| g == "write" || g == level);
    if ok { Ok(()) } else { Err(Answer::error(403, "Resource not accessible by integration")) }
}

fn post_status(state: &mut State, req: &Req<'_>) -> Answer {
    let (owner, name, sha) = (&req.segments[1], &req.segments[2], &req.segments[4]);
    let Some(repo) = state.repo(owner, name) else { return Answer::error(404, "Not Found") };
    if !repo.commits.contains_key(&sha.to_ascii_lowercase()) {
        return Answer::error(422, &format!("No commit found for SHA: {sha}"));
    }
    let body: Value = serde_json::from_slice(req.body).unwrap_or(Value::Null);
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
    if text("description").is_some_and(|d| d.chars().count() > 140) {
        return Answer::error(
            422,
            "Validation Failed: description is too long (maximum is 140 characters)",
        );
    }
    let status = PostedStatus {
        repo: format!("{owner}/{name}"),
        sha: sha.clone(),
        state: text("state").unwrap_or_default(),
        context: text("context").unwrap_or_else(|| "default".into()),
        description: text("description"),
        target_url: text("target_url"),
    };
    let id = state.statuses.len() + 1;
    let answer = json!({
        "url": format!("{}/repos/{owner}/{name}/statuses/{sha}", req.base_url),
        "avatar_url": null, "id": id, "node_id": format!("SC_fake{id}"),
        "state": status.state, "description": status.description, "target_url": status.target_url,
        "context": status.context, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
        "creator": null,
    });
    state.statuses.push(status);
    Answer::json(201, &answer)
}

fn pull_files(state: &State, req: &Req<'_>) -> Answer {
    let (owner, name) = (&req.segments[1], &req.segments[2]);
    let pull = req.segments[4].parse::<u64>().ok();
    let Some(files) = state.repo(owner, name).and_then(|r| r.pulls.get(&pull.unwrap_or(0))) else {
        return Answer::error(404, "Not Found");
    };
    let per_page =
        req.query("per_page").and_then(|p| p.parse::<usize>().ok()).unwrap_or(30).clamp(1, 100);
    let page = req.query("page").and_then(|p| p.parse::<usize>().ok()).unwrap_or(1).max(1);
    let listed = &files[..files.len().min(3000)];
    let pages = listed.len().div_ceil(per_page).max(1);
    let entries: Vec<Value> = listed
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|f| {
            json!({
                "sha": "0".repeat(40), "filename": f, "status": "modified", "additions": 1, "deletions": 0, "changes": 1,
                "blob_url": format!("https://github.com/{owner}/{name}/blob/HEAD/{f}"),
                "raw_url": format!("https://github.com/{owner}/{name}/raw/HEAD/{f}"),
                "contents_url": format!("{}/repos/{owner}/{name}/contents/{f}", req.base_url),
                "patch": "@@ -0,0 +1 @@\n+x",
            })
        })
        .collect();
    let link = |p: usize, rel: &str| {
        format!(
            "<{}/repos/{owner}/{name}/pulls/{}/files?per_page={per_page}&page={p}>; rel=\"{rel}\"",
            req.base_url, req.segments[4]
        )
    };
    let mut links = Vec::new();
    if page < pages {
        links.push(link(page + 1, "next"));
        links.push(link(pages, "last"));
    }
    if page > 1 {
        links.push(link(1, "first"));
        links.push(link(page - 1, "prev"));
    }
    let answer = Answer::json(200, &Value::Array(entries));
    if links.is_empty() { answer } else { answer.header("link", links.join(", ")) }
}

fn commit(state: &State, req: &Req<'_>) -> Answer {
    let (owner, name) = (&req.segments[1], &req.segments[2]);
    let git = req.segments[3] == "git";
    let sha = req.segments.last().map(|s| s.to_ascii_lowercase()).unwrap_or_default();
    let Some(message) = state.repo(owner, name).and_then(|r| r.commits.get(&sha)) else {
        return if git {
            Answer::error(404, "Not Found")
        } else {
            Answer::error(422, &format!("No commit found for SHA: {sha}"))
        };
    };
    let person =
        json!({"name": "kiln test", "email": "test@example.com", "date": "2026-01-01T00:00:00Z"});
    let git_commit = json!({
        "sha": sha, "node_id": format!("C_{sha}"), "url": format!("{}/repos/{owner}/{name}/git/commits/{sha}", req.base_url),
        "html_url": format!("https://github.com/{owner}/{name}/commit/{sha}"),
        "author": person, "committer": person, "message": message,
        "tree": {"sha": "0".repeat(40), "url": format!("{}/repos/{owner}/{name}/git/trees/{}", req.base_url, "0".repeat(40))},
        "parents": [], "comment_count": 0,
        "verification": {"verified": false, "reason": "unsigned", "signature": null, "payload": null, "verified_at": null},
    });
    if git {
        return Answer::json(200, &git_commit);
    }
    Answer::json(
        200,
        &json!({
            "sha": sha, "node_id": format!("C_{sha}"), "url": format!("{}/repos/{owner}/{name}/commits/{sha}", req.base_url),
            "html_url": format!("https://github.com/{owner}/{name}/commit/{sha}"),
            "comments_url": format!("{}/repos/{owner}/{name}/commits/{sha}/comments", req.base_url),
            "commit": git_commit, "author": null, "committer": null, "parents": [],
            "stats": {"additions": 0, "deletions": 0, "total": 0}, "files": [],
        }),
    )
}

/// GitHub leaves files over 1 MB out of the contents JSON (`encoding: none`).
const INLINE_LIMIT: usize = 1_000_000;

fn contents(state: &State, req: &Req<'_>) -> Answer {
    let (owner, name) = (&req.segments[1], &req.segments[2]);
    let path = req.segments[4..].join("/");
    let Some(repo) = state.repo(owner, name) else { return Answer::error(404, "Not Found") };
    let Some(commit) = req.query("ref").map(|r| r.to_ascii_lowercase()) else {
        return Answer::error(404, "No commit found for the ref (the fake needs ?ref=)");
    };
    if !repo.commits.contains_key(&commit) {
        return Answer::error(404, &format!("No commit found for the ref {commit}"));
    }
    let url = format!("{}/repos/{owner}/{name}/contents/{path}?ref={commit}", req.base_url);
    let Some(bytes) = repo.files.get(&(commit.clone(), path.clone())) else {
        let prefix = format!("{path}/");
        let listing: Vec<Value> = repo
            .files
            .keys()
            .filter(|(c, p)| *c == commit && p.starts_with(&prefix))
            .map(|(_, p)| json!({"type": "file", "name": p, "path": p}))
            .collect();
        return if listing.is_empty() {
            Answer::error(404, "Not Found")
        } else {
            Answer::json(200, &Value::Array(listing))
        };
    };
    let accept = req.header("accept").unwrap_or("");
    if accept.contains("vnd.github.raw") {
        return Answer {
            status: 200,
            headers: vec![("content-type".into(), "application/vnd.github.raw".into())],
            body: bytes.clone(),
        };
    }
    let (encoding, content) = if bytes.len() <= INLINE_LIMIT {
        let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
        let lines: Vec<&str> =
            b64.as_bytes().chunks(60).map(|c| std::str::from_utf8(c).unwrap_or("")).collect();
        ("base64", format!("{}\n", lines.join("\n")))
    } else {
        ("none", String::new())
    };
    let file_name = path.rsplit('/').next().unwrap_or(&path);
    Answer::json(
        200,
        &json!({
            "type": "file", "encoding": encoding, "size": bytes.len(), "name": file_name, "path": path,
            "content": content, "sha": "0".repeat(40), "url": url, "git_url": null, "html_url": null, "download_url": null,
            "_links": {"self": url, "git": null, "html": null},
        }),
    )
}

fn installation(state: &State, req: &Req<'_>) -> Answer {
    let (owner, name) = (&req.segments[1], &req.segments[2]);
    let Some(id) = state.repo(owner, name).and_then(|r| r.installation) else {
        return Answer::error(404, "Not Found");
    };
    let app_id = state.app.as_ref().map_or(0, |a| a.id);
    Answer::json(
        200,
        &json!({
            "id": id, "app_id": app_id, "app_slug": "kiln-test", "target_id": 1, "target_type": "Organization",
            "account": {"login": owner, "id": 1, "type": "Organization"},
            "repository_selection": "selected", "permissions": app_permissions(), "events": ["push", "pull_request"],
            "access_tokens_url": format!("{}/app/installations/{id}/access_tokens", req.base_url),
            "repositories_url": format!("{}/installation/repositories", req.base_url),
            "html_url": format!("https://github.com/organizations/{owner}/settings/installations/{id}"),
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z", "single_file_name": null,
        }),
    )
}

fn access_token(state: &mut State, req: &Req<'_>) -> Answer {
    let Some(id) =
        req.segments[2].parse::<u64>().ok().filter(|id| state.installations.contains(id))
    else {
        return Answer::error(404, "Not Found");
    };
    let body: Value = if req.body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(req.body).unwrap_or(Value::Null)
    };
    let repositories: Option<Vec<String>> = body
        .get("repositories")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect());
    if let Some(repos) = &repositories {
        let installed = |n: &String| {
            state.repos.values().any(|r| {
                r.installation == Some(id)
                    && r.name.rsplit('/').next().is_some_and(|x| x.eq_ignore_ascii_case(n))
            })
        };
        if !repos.iter().all(installed) {
            return Answer::error(
                422,
                "There is at least one repository that does not exist or is not accessible to the parent installation.",
            );
        }
    }
    let permissions: Option<BTreeMap<String, String>> = body
        .get("permissions")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned())).collect());
    let granted = app_permissions();
    if let Some(asked) = &permissions {
        let ok = asked.iter().all(|(k, v)| granted.get(k).is_some_and(|g| g == "write" || g == v));
        if !ok {
            return Answer::error(
                422,
                "The permissions requested are not granted to this installation.",
            );
        }
    }
    let expires_at_s = state.now_s() + state.token_lifetime_s;
    let token = format!("ghs_fake{:04}", state.issued.len() + 1);
    let expires_at = time::OffsetDateTime::from_unix_timestamp(expires_at_s)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default();
    let mut answer = json!({
        "token": token, "expires_at": expires_at,
        "permissions": permissions.clone().unwrap_or_else(|| granted.clone()),
        "repository_selection": if repositories.is_some() { "selected" } else { "all" },
    });
    if let (Some(repos), Some(map)) = (&repositories, answer.as_object_mut()) {
        map.insert("repositories".into(), repos.iter().map(|r| json!({"name": r})).collect());
    }
    state.issued.push(IssuedToken {
        installation_id: id,
        token,
        expires_at_s,
        repositories,
        permissions,
    });
    Answer::json(201, &answer)
}
