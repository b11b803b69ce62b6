//! `batch`: one of build-list, build-graph or build-matrix; identifiers, `depend-on` and
//! dependency cycles.

use crate::diagnostic::{Position, child_path, index_path};
use crate::yaml::{Node, Value};

use super::super::keys::{
    BATCH, BATCH_ENV, BATCH_GRAPH_TASK, BATCH_LIST_TASK, MATRIX, MATRIX_DYNAMIC,
    MATRIX_DYNAMIC_ENV, MATRIX_STATIC,
};
use super::super::model::{Batch, BatchEnv, BatchKind, BatchTask, BuildMatrix};
use super::env::{nul_in_name, reserved, variable_value, variables};
use super::reader::Reader;

const SHAPES: [&str; 3] = ["build-list", "build-graph", "build-matrix"];

/// `batch`.
pub(super) fn read(r: &mut Reader, node: &Node, path: &str) -> Option<Batch> {
    let sec = r.section(node, path, BATCH)?;
    let fast_fail = sec.get("fast-fail").and_then(|(n, p)| r.boolean(n, &p)).unwrap_or(false);
    let present: Vec<&str> = SHAPES.into_iter().filter(|s| sec.get(s).is_some()).collect();
    if present.len() > 1 {
        let mut by_pos: Vec<(Position, &str)> =
            present.iter().filter_map(|s| sec.key_pos(s).map(|p| (p, *s))).collect();
        by_pos.sort();
        for (pos, name) in by_pos.iter().skip(1) {
            r.error(
                *pos,
                &child_path(path, name),
                format!(
                    "a batch has exactly one of build-list, build-graph and build-matrix; `{name}` comes after `{}`",
                    by_pos[0].1
                ),
            );
        }
    }
    let kind = if let Some((n, p)) = sec.get("build-list") {
        Some(BatchKind::List(tasks(r, n, &p, false)))
    } else if let Some((n, p)) = sec.get("build-graph") {
        Some(BatchKind::Graph(tasks(r, n, &p, true)))
    } else {
        sec.get("build-matrix").map(|(n, p)| BatchKind::Matrix(matrix(r, n, &p)))
    };
    Some(Batch { fast_fail, kind })
}

struct Read<'a> {
    task: BatchTask,
    node: &'a Node,
    depend_nodes: Vec<(&'a Node, String)>,
}

fn tasks(r: &mut Reader, node: &Node, path: &str, graph: bool) -> Vec<BatchTask> {
    let items = match &node.value {
        Value::Sequence(items) => items,
        _ if node.is_null() => return Vec::new(),
        _ => {
            r.wrong_type(node, path, "a list of build tasks");
            return Vec::new();
        }
    };
    let keys = if graph { BATCH_GRAPH_TASK } else { BATCH_LIST_TASK };
    let mut read: Vec<Read<'_>> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let item_path = index_path(path, i);
        let Some(sec) = r.section(item, &item_path, keys) else { continue };
        let mut task = BatchTask::default();
        if let Some((n, p)) = sec.get("identifier") {
            task.identifier = r.text(n, &p).unwrap_or_default();
            if task.identifier.is_empty() {
                r.error(n.pos, &p, "the batch identifier is empty");
            }
            if let Some(first) = read
                .iter()
                .find(|t| t.task.identifier == task.identifier && !task.identifier.is_empty())
            {
                r.error(
                    n.pos,
                    &p,
                    format!(
                        "duplicate batch identifier `{}`; it is first used on line {}",
                        task.identifier, first.node.pos.line
                    ),
                );
            }
        }
        task.buildspec = sec.get("buildspec").and_then(|(n, p)| r.text(n, &p));
        task.env = sec.get("env").map(|(n, p)| batch_env(r, n, &p)).unwrap_or_default();
        task.ignore_failure =
            sec.get("ignore-failure").and_then(|(n, p)| r.boolean(n, &p)).unwrap_or(false);
        task.debug_session =
            sec.get("debug-session").and_then(|(n, p)| r.boolean(n, &p)).unwrap_or(false);
        let mut depend_nodes = Vec::new();
        if graph && let Some((n, p)) = sec.get("depend-on") {
            task.depend_on = r.text_list(n, &p);
            match n.as_sequence() {
                Some(list) => {
                    depend_nodes =
                        list.iter().enumerate().map(|(j, d)| (d, index_path(&p, j))).collect()
                }
                None => depend_nodes = vec![(n, p.clone())],
            }
        }
        read.push(Read { task, node: item, depend_nodes });
    }
    if graph {
        check_graph(r, &read, path);
    }
    read.into_iter().map(|t| t.task).collect()
}

/// Reports `depend-on` items naming no task and the first dependency cycle.
fn check_graph(r: &mut Reader, tasks: &[Read<'_>], path: &str) {
    let index_of = |id: &str| tasks.iter().position(|t| t.task.identifier == id);
    for t in tasks {
        for (node, p) in &t.depend_nodes {
            let Some(id) = node.as_scalar().map(|s| s.text.as_str()) else { continue };
            if index_of(id).is_none() {
                r.error(
                    node.pos,
                    p,
                    format!(
                        "`depend-on` names `{id}`, which is not an identifier of this build-graph"
                    ),
                );
                let ids = tasks.iter().map(|t| t.task.identifier.as_str());
                if let Some(help) = super::super::suggest::did_you_mean(id, ids) {
                    r.help(help);
                }
            }
        }
    }
    // Depth-first search over the known edges: 0 unvisited, 1 on the stack, 2 done.
    let mut state = vec![0u8; tasks.len()];
    let mut stack: Vec<usize> = Vec::new();
    for start in 0..tasks.len() {
        if let Some(cycle) = visit(start, tasks, &index_of, &mut state, &mut stack) {
            let names: Vec<&str> =
                cycle.iter().map(|&i| tasks[i].task.identifier.as_str()).collect();
            let first = &tasks[cycle[0]];
            r.error(
                first.node.pos,
                &index_path(path, cycle[0]),
                format!(
                    "build-graph has a dependency cycle: {} -> {}",
                    names.join(" -> "),
                    names[0]
                ),
            );
            return;
        }
    }
}

fn visit(
    i: usize,
    tasks: &[Read<'_>],
    index_of: &dyn Fn(&str) -> Option<usize>,
    state: &mut [u8],
    stack: &mut Vec<usize>,
) -> Option<Vec<usize>> {
    match state[i] {
        2 => return None,
        1 => {
            let from = stack.iter().position(|&s| s == i).unwrap_or(0);
            return Some(stack[from..].to_vec());
        }
        _ => {}
    }
    state[i] = 1;
    stack.push(i);
    for dep in &tasks[i].task.depend_on {
        if let Some(j) = index_of(dep)
            && let Some(cycle) = visit(j, tasks, index_of, state, stack)
        {
            return Some(cycle);
        }
    }
    stack.pop();
    state[i] = 2;
    None
}

fn batch_env(r: &mut Reader, node: &Node, path: &str) -> BatchEnv {
    let Some(sec) = r.section(node, path, BATCH_ENV) else { return BatchEnv::default() };
    BatchEnv {
        compute_type: sec.get("compute-type").and_then(|(n, p)| r.text(n, &p)),
        image: sec.get("image").and_then(|(n, p)| r.text(n, &p)),
        privileged_mode: sec.get("privileged-mode").and_then(|(n, p)| r.boolean(n, &p)),
        environment_type: sec.get("type").and_then(|(n, p)| r.text(n, &p)),
        variables: sec
            .get("variables")
            .map(|(n, p)| variables(r, n, &p).into_iter().map(|(k, v, _)| (k, v)).collect())
            .unwrap_or_default(),
    }
}

fn matrix(r: &mut Reader, node: &Node, path: &str) -> BuildMatrix {
    let mut m = BuildMatrix::default();
    let Some(sec) = r.section(node, path, MATRIX) else { return m };
    if let Some((n, p)) = sec.get("static")
        && let Some(st) = r.section(n, &p, MATRIX_STATIC)
    {
        m.static_ignore_failure =
            st.get("ignore-failure").and_then(|(n, p)| r.boolean(n, &p)).unwrap_or(false);
        m.static_env = st.get("env").map(|(n, p)| batch_env(r, n, &p)).unwrap_or_default();
    }
    if let Some((n, p)) = sec.get("dynamic") {
        match n.as_sequence() {
            Some(entries) => {
                r.warning(
                    n.pos,
                    &p,
                    "`build-matrix.dynamic` is written as a list; kiln reads it as one mapping, the values of each key of every entry combined",
                );
                r.help("write `dynamic:` as one mapping, with `buildspec:` and `env:` under it");
                for (i, entry) in entries.iter().enumerate() {
                    dynamic(r, entry, &index_path(&p, i), &mut m);
                }
            }
            None => dynamic(r, n, &p, &mut m),
        }
    }
    m
}

/// One mapping of `build-matrix.dynamic`, its values added to those already read (in order,
/// without repeats) so that the entries of a `dynamic` written as a list are merged.
fn dynamic(r: &mut Reader, node: &Node, path: &str, m: &mut BuildMatrix) {
    let Some(dy) = r.section(node, path, MATRIX_DYNAMIC) else { return };
    if let Some((n, p)) = dy.get("buildspec") {
        merge(&mut m.dynamic_buildspecs, r.text_list(n, &p));
    }
    let Some((n, p)) = dy.get("env") else { return };
    let Some(env) = r.section(n, &p, MATRIX_DYNAMIC_ENV) else { return };
    if let Some((n, p)) = env.get("compute-type") {
        merge(&mut m.dynamic_compute_types, r.text_list(n, &p));
    }
    if let Some((n, p)) = env.get("image") {
        merge(&mut m.dynamic_images, r.text_list(n, &p));
    }
    if let Some((n, p)) = env.get("variables") {
        for (name, values) in dynamic_variables(r, n, &p) {
            match m.dynamic_variables.iter_mut().find(|(known, _)| *known == name) {
                Some((_, known)) => merge(known, values),
                None => m.dynamic_variables.push((name, values)),
            }
        }
    }
}

/// Appends the values of `more` that earlier entries did not give (repeats within `more`
/// itself are kept, as in a `dynamic` written as one mapping).
fn merge(into: &mut Vec<String>, more: Vec<String>) {
    let earlier = into.len();
    for value in more {
        if !into[..earlier].contains(&value) {
            into.push(value);
        }
    }
}

fn dynamic_variables(r: &mut Reader, node: &Node, path: &str) -> Vec<(String, Vec<String>)> {
    let Some(entries) = r.entries(node, path, "a mapping of variable names to lists of values")
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, value, key_pos) in entries {
        if reserved(r, name, key_pos, path) || nul_in_name(r, name, key_pos, path) {
            continue;
        }
        let p = child_path(path, name);
        let values = match &value.value {
            Value::Sequence(items) => items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| variable_value(r, item, &index_path(&p, i)))
                .collect(),
            Value::Scalar(_) => variable_value(r, value, &p).into_iter().collect(),
            Value::Mapping(_) => {
                r.wrong_type(value, &p, "a list of values");
                continue;
            }
        };
        out.push((name.to_owned(), values));
    }
    out
}
