//! `tract-vs-ort [RUNS]`: every model plan in tract and in onnxruntime (one
//! thread each) on the same real input, side by side in one run; prints a
//! table of medians, ratios and output differences.

fn main() {
    let runs = std::env::args().nth(1).and_then(|r| r.parse().ok()).unwrap_or(20);
    let models = trustshot_benches::model_dir();
    let result =
        trustshot_benches::model_cases(&models).and_then(|cases| trustshot_benches::compare(&models, &cases, runs));
    let rows = match result {
        Ok(rows) => rows,
        Err(e) => {
            eprintln!("tract-vs-ort: {e}");
            std::process::exit(1);
        }
    };
    println!("{runs} timed runs per model, one thread, medians; cpu = thread CPU time (fairer on a loaded machine)");
    println!(
        "| model | input | ORT wall / cpu ms | tract wall / cpu ms | tract/ORT (cpu) | max abs diff | max abs output |"
    );
    println!("|---|---|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {:?} | {:.2} / {:.2} | {:.2} / {:.2} | {:.2}x | {:.1e} | {:.3} |",
            r.name,
            r.shape,
            r.ort_wall_ms,
            r.ort_cpu_ms,
            r.tract_wall_ms,
            r.tract_cpu_ms,
            r.tract_cpu_ms / r.ort_cpu_ms,
            r.max_abs_diff,
            r.max_abs_reference
        );
    }
}
