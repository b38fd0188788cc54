//! `tract-profile [RUNS] [PLAN] [--nodes]`: where each model plan's time goes
//! in tract, by operator (median over RUNS runs of each node's wall time,
//! summed per operator), or node by node with `--nodes`, for every plan whose
//! name contains PLAN. Operators named `Trustshot…` are our own kernels
//! (`crates/trustshot-face/src/kernels.rs`).

fn main() {
    let (flags, positional): (Vec<String>, Vec<String>) = std::env::args().skip(1).partition(|a| a.starts_with("--"));
    let by = if flags.iter().any(|f| f == "--nodes") { By::Node } else { By::Operator };
    let mut args = positional.into_iter();
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(20);
    let filter = args.next().unwrap_or_default();
    let models = trustshot_benches::model_dir();
    if let Err(e) = profile(&models, runs.max(1), &filter, by) {
        eprintln!("tract-profile: {e}");
        std::process::exit(1);
    }
}

/// What the table's rows are.
#[derive(Clone, Copy, PartialEq)]
enum By {
    Operator,
    Node,
}

fn profile(models: &std::path::Path, runs: usize, filter: &str, by: By) -> Result<(), String> {
    let cases = trustshot_benches::model_cases(models)?;
    for case in cases.iter().filter(|c| c.name.contains(filter)) {
        let model = trustshot_face::Model::load(&models.into(), &case.spec).map_err(|e| e.to_string())?;
        model.profile(case.input.clone()).map_err(|e| e.to_string())?;
        let mut per_node: Vec<(String, Vec<f64>)> = Vec::new();
        for _ in 0..runs {
            let times = model.profile(case.input.clone()).map_err(|e| e.to_string())?;
            per_node.resize(times.len(), Default::default());
            for (slot, time) in per_node.iter_mut().zip(times) {
                slot.0 = match by {
                    By::Operator => time.op,
                    By::Node => format!("{} ({})", time.node, time.op),
                };
                slot.1.push(time.ms);
            }
        }
        let mut per_op: Vec<(String, f64)> = Vec::new();
        for (op, mut times) in per_node {
            times.sort_by(f64::total_cmp);
            let median = times[times.len() / 2];
            match per_op.iter_mut().find(|(o, _)| *o == op) {
                Some((_, total)) => *total += median,
                None => per_op.push((op, median)),
            }
        }
        if by == By::Operator {
            per_op.sort_by(|a, b| b.1.total_cmp(&a.1));
        }
        let total: f64 = per_op.iter().map(|(_, ms)| ms).sum();
        println!("| {} ({runs} runs) | {total:.2} ms |\n|---|---|", case.name);
        for (op, ms) in per_op.iter().filter(|(_, ms)| *ms >= 0.001) {
            println!("| {op} | {ms:.3} |");
        }
        println!();
    }
    Ok(())
}
