//! Bad template files and invalid edits: each is refused with an error that says where and
//! what was expected, and an edit that is refused leaves the template unchanged.

use serde_json::{json, Value};

use nas_navigator::nas::space::doc::TemplateDoc;
use nas_navigator::nas::space::edit::Edit;
use nas_navigator::nas::space::{SuperGraph, TemplateSpec};

fn chain() -> SuperGraph {
    TemplateSpec::Chain {
        stages: 3,
        width: 4,
    }
    .build((1, 28, 28), 10)
}

fn doc() -> Value {
    serde_json::from_str(&TemplateDoc::to_json(&chain())).unwrap()
}

fn refused(doc: &Value, needles: &[&str]) {
    let text = serde_json::to_string_pretty(doc).unwrap();
    let e = TemplateDoc::parse(&text).unwrap_err().to_string();
    for needle in needles {
        assert!(e.contains(needle), "error lacks `{needle}`: {e}");
    }
}

#[test]
fn bad_template_files_say_where_and_what() {
    let mut d = doc();
    d.as_object_mut().unwrap().remove("output");
    refused(&d, &["missing field `output`", "line"]);

    let mut d = doc();
    d["nodes"][1]["stage"] = json!("one");
    refused(&d, &["invalid type", "expected usize", "line"]);

    let mut d = doc();
    d["edges"][0]["colour"] = json!("red");
    refused(&d, &["unknown field `colour`"]);

    let mut d = doc();
    d["version"] = json!(-1);
    refused(&d, &["integer `-1`, expected u32", "line"]);

    let mut d = doc();
    let first = d["nodes"][0]["name"].clone();
    d["nodes"][1]["name"] = first.clone();
    refused(&d, &[first.as_str().unwrap()]);

    let mut d = doc();
    d["edges"][0]["decision"] = json!("nosuch");
    refused(&d, &["nosuch"]);

    let mut d = doc();
    d["decisions"][0]["blocks"] = json!([]);
    let name = d["decisions"][0]["name"].as_str().unwrap().to_string();
    refused(&d, &[&name]);

    // An edge from the output back to the first inner node closes a cycle.
    let mut d = doc();
    let output = d["output"].clone();
    let target = d["nodes"][1]["name"].clone();
    let decision = d["edges"][0]["decision"].clone();
    let edges = d["edges"].as_array_mut().unwrap();
    edges.push(json!({"name": "back", "from": output, "to": target, "decision": decision}));
    refused(&d, &["cycle"]);

    assert!(TemplateDoc::parse("")
        .unwrap_err()
        .to_string()
        .contains("line 1"));
    let e = TemplateDoc::parse("[1, 2]").unwrap_err().to_string();
    assert!(e.contains("invalid type") && e.contains("line 1"), "{e}");
}

#[test]
fn a_cycle_or_a_cut_output_is_refused_and_the_template_stays() {
    let mut g = chain();
    let before = TemplateDoc::to_json(&g);
    let output = g.graph[g.output].name.clone();
    let cycle = Edit::Connect {
        name: "back".into(),
        from: output.clone(),
        to: "s1.conv".into(),
        decision: "conv1".into(),
        blocks: None,
    };
    let e = g.apply(&cycle).unwrap_err().to_string();
    assert!(e.contains("cycle"), "{e}");
    assert_eq!(TemplateDoc::to_json(&g), before);
    // Cutting the only edge into the output leaves no path to it.
    let last_edge = g
        .graph
        .edge_indices()
        .find(|&e| g.graph.edge_endpoints(e).map(|(_, b)| b) == Some(g.output))
        .map(|e| g.graph[e].name.clone())
        .unwrap();
    let e = g
        .apply(&Edit::Disconnect { name: last_edge })
        .unwrap_err()
        .to_string();
    assert!(!e.is_empty());
    assert_eq!(TemplateDoc::to_json(&g), before);
    let e = g
        .apply(&Edit::RemoveNode { name: output })
        .unwrap_err()
        .to_string();
    assert!(!e.is_empty());
    assert_eq!(TemplateDoc::to_json(&g), before);
}

/// The chain template with every block's `filters` (where it has one) set to `f`.
fn with_filters(f: u64) -> Value {
    let mut d = doc();
    for decision in d["decisions"].as_array_mut().unwrap() {
        for block in decision["blocks"].as_array_mut().unwrap() {
            if block.get("filters").is_some() {
                block["filters"] = json!(f);
            }
        }
    }
    d
}

#[test]
fn absurd_sizes_are_refused_before_anything_is_allocated() {
    // Found by the session fuzz target: a size so large that the cost arithmetic overflowed.
    refused(&with_filters(1 << 40), &["numbers per image"]);
    let mut d = doc();
    d["decisions"][0]["blocks"][0]["kernel"] = json!((1 << 20) + 1);
    refused(&d, &["at most 4096"]);
    let mut d = doc();
    d["input_shape"]["h"] = json!(0);
    refused(&d, &["no numbers"]);
    // 2^20 channels in and out of a 3x3 conv: about 10^13 weights. The template is valid,
    // but the supernet refuses to allocate what cannot fit.
    let text = serde_json::to_string(&with_filters(1 << 20)).unwrap();
    let g = TemplateDoc::parse(&text).unwrap();
    let e = match nas_navigator::nas::supernet::Supernet::new(g, 0, &candle_core::Device::Cpu) {
        Ok(_) => panic!("a supernet of 10^13 weights was allocated"),
        Err(e) => e.to_string(),
    };
    assert!(e.contains("out of memory") && e.contains("weights"), "{e}");
}
