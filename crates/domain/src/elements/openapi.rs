//! The OpenAPI 3.1 document of the agency API: the submission routes derived from the kinds, the read routes,
//! and the schema routes.

use serde_json::{Map, Value, json};

use super::schema::{composite_schema, kind_schema};
use super::{composites, kinds};

const REFS: &str = "#/components/schemas/";

fn problem_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}},
            "application/problem+xml": {"schema": {"$ref": "#/components/schemas/Problem"}}
        }
    })
}

fn ok_response(description: &str, schema: Value) -> Value {
    json!({
        "description": description,
        "content": {
            "application/json": {"schema": schema},
            "application/xml": {"schema": schema}
        }
    })
}

fn psn_param() -> Value {
    json!({
        "name": "psn", "in": "path", "required": true,
        "description": "The person's PSN: 10 digits, the last a Verhoeff check digit.",
        "schema": {"type": "string", "pattern": "^[0-9]{10}$"}
    })
}

fn common_components() -> Map<String, Value> {
    let mut schemas = Map::new();
    schemas.insert(
        "Accepted".into(),
        json!({
            "type": "object",
            "description": "The submission was accepted and recorded.",
            "required": ["submission_id", "status", "entry_ids", "late"],
            "properties": {
                "submission_id": {"type": "string"},
                "status": {"const": "accepted"},
                "entry_ids": {"type": "array", "items": {"type": "integer"}},
                "psn": {"type": "string", "pattern": "^[0-9]{10}$",
                        "description": "For births and registrations: the new person's PSN."},
                "late": {"type": "boolean",
                         "description": "Entered after the deadline (A1.41)."}
            }
        }),
    );
    schemas.insert(
        "Held".into(),
        json!({
            "type": "object",
            "description": "The submission is held for review as a likely duplicate.",
            "required": ["submission_id", "status", "code"],
            "properties": {
                "submission_id": {"type": "string"},
                "status": {"const": "held"},
                "code": {"type": "string", "examples": ["PSR-DUP-0001"]}
            }
        }),
    );
    schemas.insert(
        "Problem".into(),
        json!({
            "type": "object",
            "description": "RFC 9457 problem details with the register's stable error code.",
            "required": ["code", "title", "status"],
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string", "description": "In the caller's language (Accept-Language)."},
                "status": {"type": "integer"},
                "code": {"type": "string", "pattern": "^PSR-[A-Z]+-[0-9]{4}$"},
                "detail": {"type": "string"},
                "explanation": {"type": "string"},
                "rejection_id": {"type": "string"},
                "errors": {"type": "array", "items": {"$ref": "#/components/schemas/FieldProblem"}}
            }
        }),
    );
    schemas.insert(
        "FieldProblem".into(),
        json!({
            "type": "object",
            "required": ["code", "field", "message"],
            "properties": {
                "code": {"type": "string"},
                "field": {"type": "string", "description": "Dotted path, e.g. mother.psn; empty for the document."},
                "message": {"type": "string"}
            }
        }),
    );
    schemas.insert(
        "Document".into(),
        json!({
            "type": "object",
            "description": "A register document; its fields are described in docs/data-elements.md.",
            "additionalProperties": true
        }),
    );
    schemas
}

fn submission_path(kind: &super::KindDef) -> Value {
    let providers: Vec<&str> = kind.providers.iter().map(|p| p.as_str()).collect();
    let schema = json!({"$ref": format!("{REFS}{}", kind.name)});
    json!({
        "post": {
            "operationId": format!("submit_{}", kind.name),
            "tags": ["submissions"],
            "summary": kind.title.en,
            "description": format!(
                "Submit a {} ({} / {}). Competent provider types: {}.",
                kind.title.en, kind.title.hy, kind.title.ru, providers.join(", ")
            ),
            "x-providers": providers,
            "parameters": [
                {"name": "Idempotency-Key", "in": "header", "required": false,
                 "description": "A retry with the same key and body answers the first answer again.",
                 "schema": {"type": "string", "maxLength": 200}},
                {"name": "X-Road-Client", "in": "header", "required": false, "schema": {"type": "string"}},
                {"name": "X-Road-Id", "in": "header", "required": false, "schema": {"type": "string"}},
                {"name": "X-Road-UserId", "in": "header", "required": false, "schema": {"type": "string"}},
                {"name": "X-Road-Issue", "in": "header", "required": false, "schema": {"type": "string"}}
            ],
            "requestBody": {
                "required": true,
                "content": {
                    "application/json": {"schema": schema},
                    "application/xml": {"schema": schema}
                }
            },
            "responses": {
                "201": ok_response("Accepted.", json!({"$ref": "#/components/schemas/Accepted"})),
                "202": ok_response("Held for review as a likely duplicate.",
                                   json!({"$ref": "#/components/schemas/Held"})),
                "400": problem_response("Malformed or invalid submission; `errors` lists every field problem."),
                "401": problem_response("No or unknown credentials."),
                "403": problem_response("The body is not competent for this kind, or is suspended."),
                "409": problem_response("The idempotency key was used with another body."),
                "413": problem_response("The body is too large."),
                "415": problem_response("Neither JSON nor XML."),
                "422": problem_response("The submission contradicts the register or a rule.")
            }
        }
    })
}

fn get_op(
    id: &str,
    tag: &str,
    summary: &str,
    params: Vec<Value>,
    ok: Value,
    secured: bool,
) -> Value {
    let mut op = json!({
        "get": {
            "operationId": id,
            "tags": [tag],
            "summary": summary,
            "parameters": params,
            "responses": {
                "200": ok,
                "400": problem_response("Invalid parameter."),
                "404": problem_response("Not found."),
                "406": problem_response("Only JSON and XML can be produced.")
            }
        }
    });
    if secured {
        op["get"]["responses"]["401"] = problem_response("No or unknown credentials.");
    } else {
        op["get"]["security"] = json!([]);
    }
    op
}

fn schema_routes(paths: &mut Map<String, Value>) {
    let public = |id: &str, summary: &str, params: Vec<Value>, media: &str, schema: Value| {
        let mut op = get_op(
            id,
            "schemas",
            summary,
            params,
            json!({"description": "OK", "content": {media: {"schema": schema}}}),
            false,
        );
        if let Some(r) = op["get"]["responses"].as_object_mut() {
            r.remove("400");
        }
        op
    };
    let kind_param = |ext: &str| {
        let names: Vec<&str> = kinds().iter().map(|k| k.name).collect();
        vec![json!({
            "name": "kind", "in": "path", "required": true,
            "description": format!("The kind's name; the path ends in .{ext}."),
            "schema": {"type": "string", "enum": names}
        })]
    };
    paths.insert(
        "/api/v1/openapi.json".into(),
        public(
            "openapi",
            "This OpenAPI document",
            vec![],
            "application/json",
            json!({"type": "object"}),
        ),
    );
    paths.insert(
        "/api/v1/schemas".into(),
        public(
            "schemas_index",
            "Every submission kind with its title (in the caller's language), providers and schema URLs",
            vec![],
            "application/json",
            json!({"type": "object"}),
        ),
    );
    paths.insert(
        "/api/v1/schemas/{kind}.json".into(),
        public(
            "json_schema",
            "The JSON Schema (2020-12) of a kind",
            kind_param("json"),
            "application/schema+json",
            json!({"type": "object"}),
        ),
    );
    paths.insert(
        "/api/v1/schemas/{kind}.xsd".into(),
        public(
            "xsd",
            "The W3C XML Schema of a kind",
            kind_param("xsd"),
            "application/xml",
            json!({"type": "string"}),
        ),
    );
    paths.insert(
        "/api/v1/elements".into(),
        public(
            "elements",
            "The data-element catalogue (ISO/IEC 11179): elements, composites and kinds",
            vec![],
            "application/json",
            json!({"type": "object"}),
        ),
    );
}

/// The OpenAPI 3.1 document served at `/api/v1/openapi.json`.
pub fn openapi() -> Value {
    let mut schemas = Map::new();
    for c in composites() {
        schemas.insert(c.name.into(), composite_schema(c, REFS));
    }
    for k in kinds() {
        schemas.insert(k.name.into(), Value::Object(kind_schema(k, REFS)));
    }
    schemas.extend(common_components());

    let mut paths = Map::new();
    for k in kinds() {
        paths.insert(
            format!("/api/v1/submissions/{}", k.name),
            submission_path(k),
        );
    }
    let doc = || ok_response("OK", json!({"$ref": "#/components/schemas/Document"}));
    let as_of = vec![
        psn_param(),
        json!({"name": "valid_on", "in": "query", "required": false,
               "description": "Only facts that had taken effect by this date.",
               "schema": {"type": "string", "format": "date"}}),
        json!({"name": "known_at", "in": "query", "required": false,
               "description": "What the register knew at this instant (RFC 3339) or at the end of this day.",
               "schema": {"type": "string"}}),
    ];
    paths.insert(
        "/api/v1/persons/{psn}".into(),
        get_op(
            "person",
            "persons",
            "A person's current state, or as of a valid date and a known time",
            as_of,
            doc(),
            true,
        ),
    );
    paths.insert(
        "/api/v1/persons/{psn}/history".into(),
        get_op(
            "person_history",
            "persons",
            "Every entry of a person, oldest first, with provenance and both times",
            vec![psn_param()],
            doc(),
            true,
        ),
    );
    paths.insert(
        "/api/v1/persons/{psn}/notice-address".into(),
        get_op(
            "notice_address",
            "persons",
            "The official-notice address on a date (A1.21.2)",
            vec![
                psn_param(),
                json!({"name": "date", "in": "query", "required": false,
                       "description": "The date (default: today).",
                       "schema": {"type": "string", "format": "date"}}),
            ],
            doc(),
            true,
        ),
    );
    paths.insert(
        "/api/v1/psn/{psn}/check".into(),
        get_op(
            "check_psn",
            "persons",
            "Check a PSN: check digit, then existence",
            vec![psn_param()],
            doc(),
            true,
        ),
    );
    paths.insert(
        "/api/v1/tin/{tin}/check".into(),
        get_op(
            "check_tin",
            "persons",
            "Check a taxpayer identification number with the tax registry",
            vec![json!({"name": "tin", "in": "path", "required": true,
                        "schema": {"type": "string"}})],
            doc(),
            true,
        ),
    );
    paths.insert(
        "/api/v1/classifiers".into(),
        get_op(
            "classifiers",
            "classifiers",
            "Name, version and size of every classifier",
            vec![],
            doc(),
            false,
        ),
    );
    paths.insert(
        "/api/v1/classifiers/{name}".into(),
        get_op(
            "classifier",
            "classifiers",
            "One classifier (code list) as shipped",
            vec![json!({"name": "name", "in": "path", "required": true,
                        "schema": {"type": "string"}})],
            doc(),
            false,
        ),
    );
    schema_routes(&mut paths);

    json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "Population State Register of Armenia: agency API",
            "version": "1",
            "description": "Submissions from providers and reads for state bodies. JSON or XML with the same \
                            field names; errors are problem documents with stable codes and titles in hy/en/ru. \
                            Generated from the data-element registry."
        },
        "tags": [
            {"name": "submissions", "description": "Provider submissions (docs/submissions.md)"},
            {"name": "persons", "description": "Reading persons"},
            {"name": "classifiers", "description": "Code lists"},
            {"name": "schemas", "description": "Schemas and the data-element catalogue"}
        ],
        "security": [{"ApiKey": []}, {"Bearer": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "Bearer": {"type": "http", "scheme": "bearer"}
            }
        }
    })
}
