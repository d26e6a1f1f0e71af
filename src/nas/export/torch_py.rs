//! Generates `model.py`: a plain PyTorch module file whose `build_model()` returns the
//! exported network, with its `state_dict()` keys equal to `weights.safetensors`'s.
//! The building blocks are fixed Python (`model_runtime.py`); what is generated is the
//! network description, every op spelled out with its resolved channels and strides.

use serde_json::{json, Value};

use crate::nas::error::{NasError, Result};
use crate::nas::space::{BlockKind, Shape, SuperGraph};

use super::network::ExportDoc;

const RUNTIME: &str = include_str!("model_runtime.py");

fn shape_list(s: Shape) -> Value {
    match s {
        Shape::Image { c, h, w } => json!([c, h, w]),
        Shape::Vector { n } => json!([n]),
    }
}

/// The op of one block at its input shape, with everything the module needs resolved.
fn op_spec(kind: &BlockKind, input: Shape) -> Value {
    let (cin, image) = match input {
        Shape::Image { c, .. } => (c, true),
        Shape::Vector { n } => (n, false),
    };
    match kind {
        BlockKind::Conv(s) => json!({
            "op": "conv", "cin": cin, "cout": s.filters.unwrap_or(cin), "kernel": s.kernel,
            "stride": s.stride, "dilation": s.dilation, "groups": s.groups,
            "batch_norm": s.batch_norm,
            "relu_before": s.relu && s.relu_first, "relu_after": s.relu && !s.relu_first,
        }),
        BlockKind::SepConv(s) => json!({
            "op": "sep_conv", "cin": cin, "cout": s.filters.unwrap_or(cin), "kernel": s.kernel,
            "stride": s.stride, "dilation": s.dilation, "batch_norm": s.batch_norm,
            "relu": s.relu,
        }),
        BlockKind::Pool(p) => json!({
            "op": "pool", "mode": p.mode, "kernel": p.kernel, "stride": p.stride,
        }),
        BlockKind::Identity => json!({ "op": "identity" }),
        BlockKind::Zero => json!({ "op": "zero" }),
        BlockKind::Dense(d) => json!({
            "op": "dense", "features": cin, "hidden": d.hidden, "classes": d.classes,
            "pre_bn": d.pre_bn_relu && image,
        }),
        BlockKind::Residual(r) => json!({
            "op": "residual", "cin": cin, "filters": r.filters, "stride": r.stride,
        }),
    }
}

/// The network description `Network(arch)` builds from: edges in execution order, one step
/// per block (an edge with parallel blocks has a step for each, in block order, all adding
/// into the same node).
pub fn arch_spec(g: &SuperGraph) -> Result<Value> {
    let report = g.infer_shapes()?;
    let mut steps = Vec::new();
    for &e in &report.edge_order {
        let (from, to) = g
            .graph
            .edge_endpoints(e)
            .ok_or_else(|| NasError::Config("edge without endpoints".into()))?;
        let d = g.edge_decision(e)?;
        let blocks = &g.decisions[d].blocks;
        if blocks.is_empty() {
            let name = &g.decisions[d].name;
            return Err(NasError::Config(format!("decision `{name}` is empty")));
        }
        let input = report.node_shapes.get(&from).copied().ok_or_else(|| {
            NasError::Config(format!("node `{}` has no shape", g.graph[from].name))
        })?;
        for block in blocks {
            steps.push(json!({
                "edge": g.graph[e].name, "block": block.label,
                "from": g.graph[from].name, "to": g.graph[to].name,
                "spec": op_spec(&block.kind, input),
            }));
        }
    }
    let node_shapes: serde_json::Map<String, Value> = report
        .node_shapes
        .iter()
        .map(|(n, s)| (g.graph[*n].name.clone(), shape_list(*s)))
        .collect();
    Ok(json!({
        "input": g.graph[g.input].name,
        "output": g.graph[g.output].name,
        "node_shapes": node_shapes,
        "steps": steps,
    }))
}

/// A JSON value as a Python literal (JSON string escapes are valid Python escapes).
pub fn py_literal(v: &Value, indent: usize, out: &mut String) {
    let pad = |n: usize| "    ".repeat(n);
    match v {
        Value::Null => out.push_str("None"),
        Value::Bool(b) => out.push_str(if *b { "True" } else { "False" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => out.push_str(&Value::String(s.clone()).to_string()),
        Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                py_literal(item, indent, out);
            }
            out.push(']');
        }
        Value::Array(items) => {
            out.push_str("[\n");
            for item in items {
                out.push_str(&pad(indent + 1));
                py_literal(item, indent + 1, out);
                out.push_str(",\n");
            }
            out.push_str(&pad(indent));
            out.push(']');
        }
        Value::Object(map) => {
            out.push_str("{\n");
            for (k, item) in map {
                out.push_str(&pad(indent + 1));
                out.push_str(&Value::String(k.clone()).to_string());
                out.push_str(": ");
                py_literal(item, indent + 1, out);
                out.push_str(",\n");
            }
            out.push_str(&pad(indent));
            out.push('}');
        }
    }
}

fn literal(v: &Value) -> String {
    let mut s = String::new();
    py_literal(v, 0, &mut s);
    s
}

/// The whole `model.py` for an exported network.
pub fn model_py(doc: &ExportDoc, g: &SuperGraph) -> Result<String> {
    let arch = arch_spec(g)?;
    let mut out = String::new();
    out.push_str(&format!(
        "\"\"\"{template} candidate {cand}, exported by nas-navigator.\n\n\
         build_model() returns a torch.nn.Module whose state_dict() loads weights.safetensors\n\
         strictly (keys `{{edge}}.{{block}}.{{part}}.{{tensor}}`); call .eval() before use.\n\
         Inputs: float32 NCHW {shape}, each channel (pixel / 255 - MEAN) / STD.\n\
         Outputs: logits over {classes} classes. Generated; do not edit.\n\"\"\"\n",
        template = doc.template.name.replace('"', "'").replace('\\', "/"),
        cand = doc.candidate.replace('"', "'").replace('\\', "/"),
        shape = doc.input_shape,
        classes = doc.classes,
    ));
    out.push_str(RUNTIME);
    out.push_str("\n\nCANDIDATE = ");
    out.push_str(&literal(&json!(doc.candidate)));
    out.push_str("\nINPUT_SHAPE = ");
    out.push_str(&literal(&shape_list(doc.input_shape)));
    out.push_str(&format!("\nCLASSES = {}\nMEAN = ", doc.classes));
    out.push_str(&literal(&json!(doc.normalisation.mean)));
    out.push_str("\nSTD = ");
    out.push_str(&literal(&json!(doc.normalisation.std)));
    out.push_str("\nARCH = ");
    out.push_str(&literal(&arch));
    out.push_str(
        "\n\n\ndef build_model():\n    \"\"\"The exported network (in training mode, as torch \
         modules start; call .eval()).\"\"\"\n    return Network(ARCH)\n",
    );
    Ok(out)
}
