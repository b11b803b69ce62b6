//! Which page a request asks for: the routes of `kiln serve` (DESIGN §4) but `POST /webhook`.

use kiln_core::build::{BuildRef, parse_build_number};

/// A page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `GET /`: recent builds (of public projects).
    List,
    /// `GET /healthz`.
    Health,
    /// `GET /builds/{project}/{number}`.
    Page(BuildRef),
    /// `GET /builds/{project}/{number}/log`.
    Log(BuildRef),
    /// `GET /api/builds/{project}/{number}`.
    Api(BuildRef),
    /// `GET /badges/{project}.svg`.
    Badge(String),
    /// Anything else.
    NotFound,
    /// A known path with a method other than `GET` or `HEAD`.
    MethodNotAllowed,
}

/// The route of `method path` (repeated slashes count as one).
pub fn route(method: &str, path: &str) -> Route {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let build =
        |project: &str, number: &str| parse_build_number(number).map(|n| BuildRef::new(project, n));
    let found = match parts.as_slice() {
        [] => Some(Route::List),
        ["healthz"] => Some(Route::Health),
        ["builds", project, number] => build(project, number).map(Route::Page),
        ["builds", project, number, "log"] => build(project, number).map(Route::Log),
        ["api", "builds", project, number] => build(project, number).map(Route::Api),
        ["badges", file] => file.strip_suffix(".svg").map(|p| Route::Badge(p.to_owned())),
        _ => None,
    };
    match found {
        None => Route::NotFound,
        Some(_) if !matches!(method, "GET" | "HEAD") => Route::MethodNotAllowed,
        Some(route) => route,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_routes_of_kiln_serve_but_the_webhook() {
        assert_eq!(route("GET", "/"), Route::List);
        assert_eq!(route("GET", "/builds/web/12"), Route::Page(BuildRef::new("web", 12)));
        assert_eq!(route("GET", "//builds/web/12/log"), Route::Log(BuildRef::new("web", 12)));
        assert_eq!(route("GET", "/api/builds/web/1"), Route::Api(BuildRef::new("web", 1)));
        assert_eq!(route("GET", "/badges/web.svg"), Route::Badge("web".into()));
        assert_eq!(route("GET", "/builds/web/01"), Route::NotFound);
        assert_eq!(route("POST", "/webhook"), Route::NotFound);
        assert_eq!(route("POST", "/builds/web/1"), Route::MethodNotAllowed);
        assert_eq!(route("GET", "/healthz"), Route::Health);
    }
}
