//! JSON shapes of the face pipeline's results (the CLI's output contract).

use serde_json::{json, Value};
use trustshot_face::{Analysis, Rejection, Subject, Verification};
use trustshot_face::{Face, ModelInfo};
use trustshot_face::{QualityReport, Reason};

/// Rounds for stable, readable output.
pub fn round(v: f32, digits: i32) -> f64 {
    let p = 10f64.powi(digits);
    (v as f64 * p).round() / p
}

pub fn face(f: &Face) -> Value {
    json!({
        "box": [round(f.bbox.x, 1), round(f.bbox.y, 1), round(f.bbox.w, 1), round(f.bbox.h, 1)],
        "landmarks": f.landmarks.iter().map(|p| [round(p.x, 1), round(p.y, 1)]).collect::<Vec<_>>(),
        "score": round(f.score, 4),
        "face_probability": round(f.face_probability, 4),
    })
}

pub fn reason(r: &Reason) -> Value {
    json!({
        "code": r.code.as_str(),
        "measured": round(r.measured, 3),
        "threshold": round(r.threshold, 3),
        "advice": r.code.advice(),
    })
}

pub fn rejection(r: &Rejection) -> Value {
    let mut v = reason(&r.reason);
    v["image"] = match r.subject {
        Subject::Probe => json!("probe"),
        Subject::Reference(i) => json!(format!("reference[{i}]")),
    };
    v
}

pub fn quality(q: &QualityReport) -> Value {
    let m = &q.measures;
    json!({
        "passed": q.passed(),
        "face_count": m.face_count,
        "face_width": round(m.face_width, 1),
        "brightness": round(m.brightness, 1),
        "sharpness": round(m.sharpness, 1),
        "yaw": round(m.pose.yaw, 1),
        "pitch": round(m.pose.pitch, 1),
        "roll": round(m.pose.roll, 1),
        "cut_off": round(m.cut_off, 3),
        "reasons": q.reasons.iter().map(reason).collect::<Vec<_>>(),
    })
}

pub fn analysis(a: &Analysis) -> Value {
    json!({
        "faces": a.faces.iter().map(face).collect::<Vec<_>>(),
        "main_face": a.main,
        "quality": quality(&a.quality),
        "timings_ms": {
            "detect": round(a.timings.detect_ms as f32, 2),
            "align_quality": round(a.timings.align_ms as f32, 2),
            "embed": round(a.timings.embed_ms as f32, 2),
        },
    })
}

pub fn verification(v: &Verification) -> Value {
    json!({
        "decision": v.decision.as_str(),
        "score": v.score.map(|s| round(s, 4)),
        "threshold": round(v.threshold, 4),
        "fmr": v.fmr,
        "reasons": v.reasons.iter().map(rejection).collect::<Vec<_>>(),
    })
}

pub fn models(infos: &[ModelInfo]) -> Value {
    infos.iter().map(|m| json!({"id": m.id, "file": m.file, "sha256": m.sha256})).collect()
}
