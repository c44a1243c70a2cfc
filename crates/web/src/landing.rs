//! `GET /`: a small landing page for people who open the server in a browser — what this server is, its
//! version, the operations endpoints and how to call the API. No personal data, no key needed. The language
//! follows `Accept-Language` (Armenian by default, English, Russian).

use axum::http::header::{
    CONTENT_LANGUAGE, CONTENT_SECURITY_POLICY, CONTENT_TYPE, HOST, VARY, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use popreg_domain::classifiers::Lang;

/// The version of the program, shown on the page.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The texts of the page in one language. Plain text: everything is escaped when the page is built.
struct Texts {
    title: &'static str,
    about: &'static str,
    no_personal_data: &'static str,
    version: &'static str,
    operations: &'static str,
    healthz: &'static str,
    readyz: &'static str,
    metrics: &'static str,
    classifiers: &'static str,
    api: &'static str,
    api_key: &'static str,
    psn: &'static str,
    json: &'static str,
    xml: &'static str,
    key_comment: &'static str,
    psn_comment: &'static str,
    errors: &'static str,
}

const HY: Texts = Texts {
    title: "Բնակչության պետական ռեգիստր",
    about: "Սա Հայաստանի Հանրապետության բնակչության պետական ռեգիստրի սերվերն է։ Այն պահում է անձանց վերաբերյալ \
            գրառումները և դրանք տրամադրում է պետական մարմիններին ծրագրային միջերեսի միջոցով՝ JSON կամ XML \
            ձևաչափով։",
    no_personal_data: "Այս էջը անձնական տվյալներ չի պարունակում։",
    version: "Տարբերակը՝",
    operations: "Սպասարկման հասցեներ (բանալի պետք չէ)",
    healthz: "սերվերն աշխատում է",
    readyz: "սերվերը պատրաստ է ընդունելու հարցումներ (տվյալների բազան հասանելի է)",
    metrics: "ցուցանիշներ Prometheus ձևաչափով",
    classifiers: "դասակարգիչների ցանկը",
    api: "Անձի տվյալների ընթերցում",
    api_key: "Անձի տվյալները տրամադրվում են միայն ռեգիստրի օպերատորի թողարկած API բանալիով։ Բանալին ուղարկեք \
              X-API-Key վերնագրով (կամ՝ Authorization: Bearer վերնագրով)։",
    psn: "Հասցեում {psn}-ը անձի հանրային ծառայությունների համարանիշն է (ՀԾՀ)՝ 10 թվանշան։",
    json: "JSON (լռելյայն)",
    xml: "XML (Accept: application/xml վերնագրով)",
    key_comment: "ռեգիստրի օպերատորի թողարկած բանալին",
    psn_comment: "անձի ՀԾՀ-ն (10 թվանշան)",
    errors: "Սխալի դեպքում պատասխանը պարունակում է սխալի կոդը (PSR-…) և բացատրություն՝ Accept-Language \
             վերնագրում նշված լեզվով (hy — հայերեն, en — անգլերեն, ru — ռուսերեն)։",
};

const EN: Texts = Texts {
    title: "Population State Register",
    about: "This is the server of the Population State Register of the Republic of Armenia. It keeps the entries \
            about persons and provides them to state bodies through an API, in JSON or XML.",
    no_personal_data: "This page contains no personal data.",
    version: "Version:",
    operations: "Operations endpoints (no key needed)",
    healthz: "the server is running",
    readyz: "the server is ready for requests (the database is reachable)",
    metrics: "metrics in the Prometheus format",
    classifiers: "the list of classifiers",
    api: "Reading a person",
    api_key: "Person data are given only with an API key issued by the register's operator. Send the key in the \
              X-API-Key header or in the Authorization: Bearer header.",
    psn: "{psn} in the path is the person's public services number (PSN), 10 digits.",
    json: "JSON (the default)",
    xml: "XML (with the header Accept: application/xml)",
    key_comment: "the key issued by the register's operator",
    psn_comment: "the person's PSN (10 digits)",
    errors: "An error answer carries an error code (PSR-…) and an explanation in the language named in the \
             Accept-Language header (hy Armenian, en English, ru Russian).",
};

const RU: Texts = Texts {
    title: "Государственный регистр населения",
    about: "Это сервер Государственного регистра населения Республики Армения. Он хранит записи о лицах и \
            предоставляет их государственным органам через программный интерфейс (API) в формате JSON или XML.",
    no_personal_data: "Эта страница не содержит персональных данных.",
    version: "Версия:",
    operations: "Служебные адреса (ключ не нужен)",
    healthz: "сервер работает",
    readyz: "сервер готов принимать запросы (база данных доступна)",
    metrics: "метрики в формате Prometheus",
    classifiers: "список классификаторов",
    api: "Чтение данных лица",
    api_key: "Данные лиц выдаются только по API-ключу, выданному оператором регистра. Передайте ключ в заголовке \
              X-API-Key или в заголовке Authorization: Bearer.",
    psn: "{psn} в адресе — номер общественных услуг лица, 10 цифр.",
    json: "JSON (по умолчанию)",
    xml: "XML (с заголовком Accept: application/xml)",
    key_comment: "ключ, выданный оператором регистра",
    psn_comment: "номер общественных услуг лица (10 цифр)",
    errors: "Ответ об ошибке содержит код ошибки (PSR-…) и пояснение на языке, указанном в заголовке \
             Accept-Language (hy — армянский, en — английский, ru — русский).",
};

fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::Hy => &HY,
        Lang::En => &EN,
        Lang::Ru => &RU,
    }
}

/// HTML-escape text for element content and double-quoted attribute values (the XML escaping serves HTML as
/// well: `&lt;`, `&gt;`, `&amp;`, `&quot;`, `&apos;`).
use popreg_domain::markup::escape;

/// The server's address for the examples, from the request's `Host` header when it is a plain `host[:port]`
/// (letters, digits, `.`, `-`, `:`, `[`, `]`); anything else is not echoed back.
fn example_host(headers: &HeaderMap) -> &str {
    headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .unwrap_or("127.0.0.1:8080")
}

/// The page in one language, with the given server address in the examples.
pub(crate) fn html(lang: Lang, host: &str) -> String {
    let t = texts(lang);
    // Raw here: the examples are escaped as a whole below.
    let base = format!("http://{host}");
    let e = escape;
    let endpoint = |path: &str, what: &str| {
        format!(
            "<li><a href=\"{p}\"><code>{p}</code></a> — {w}</li>\n",
            p = e(path),
            w = e(what)
        )
    };
    let mut endpoints = String::new();
    endpoints.push_str(&endpoint("/healthz", t.healthz));
    endpoints.push_str(&endpoint("/readyz", t.readyz));
    endpoints.push_str(&endpoint("/metrics", t.metrics));
    endpoints.push_str(&endpoint("/api/v1/classifiers", t.classifiers));
    let setup = format!(
        "export API_KEY='…'   # {}\nexport PSN=…         # {}\n",
        t.key_comment, t.psn_comment
    );
    let json = format!(
        "{setup}curl -H \"X-API-Key: $API_KEY\" {base}/api/v1/persons/$PSN\n\
         curl -H \"Authorization: Bearer $API_KEY\" {base}/api/v1/persons/$PSN\n"
    );
    let xml = format!(
        "curl -H \"X-API-Key: $API_KEY\" -H 'Accept: application/xml' {base}/api/v1/persons/$PSN\n"
    );
    format!(
        r#"<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font-family:sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}pre{{background:#f4f4f4;padding:.75rem;overflow-x:auto}}</style>
</head>
<body>
<h1>{title}</h1>
<p>{about}</p>
<p>{no_personal_data}</p>
<p>{version_label} <code>popreg {version}</code></p>
<p><a href="/notices">{notices}</a></p>
<h2>{operations}</h2>
<ul>
{endpoints}</ul>
<h2>{api}</h2>
<p>{api_key}</p>
<p>{psn}</p>
<h3>{json_label}</h3>
<pre><code>{json}</code></pre>
<h3>{xml_label}</h3>
<pre><code>{xml}</code></pre>
<p>{errors}</p>
</body>
</html>
"#,
        lang = lang.as_str(),
        title = e(t.title),
        about = e(t.about),
        no_personal_data = e(t.no_personal_data),
        version_label = e(t.version),
        version = e(VERSION),
        notices = e(&crate::portal::tr(lang, "notices-landing-link")),
        operations = e(t.operations),
        api = e(t.api),
        api_key = e(t.api_key),
        psn = e(t.psn),
        json_label = e(t.json),
        json = e(&json),
        xml_label = e(t.xml),
        xml = e(&xml),
        errors = e(t.errors),
    )
}

/// `GET /`
pub(crate) async fn page(headers: HeaderMap) -> Response {
    let lang = crate::negotiate::language(&headers);
    let mut r = (StatusCode::OK, html(lang, example_host(&headers))).into_response();
    let h = r.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(CONTENT_LANGUAGE, HeaderValue::from_static(lang.as_str()));
    h.insert(VARY, HeaderValue::from_static("accept-language"));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_is_in_the_callers_language() {
        let hy = html(Lang::Hy, "example.am:8080");
        assert!(hy.contains("<html lang=\"hy\">"), "{hy}");
        assert!(hy.contains("<title>Բնակչության պետական ռեգիստր</title>"));
        let en = html(Lang::En, "example.am:8080");
        assert!(en.contains("<html lang=\"en\">"));
        assert!(en.contains("<title>Population State Register</title>"));
        let ru = html(Lang::Ru, "example.am:8080");
        assert!(ru.contains("<html lang=\"ru\">"));
        assert!(ru.contains("<title>Государственный регистр населения</title>"));
        for page in [&hy, &en, &ru] {
            assert!(page.contains(&format!("popreg {VERSION}")));
            for path in ["/healthz", "/readyz", "/metrics", "/api/v1/classifiers"] {
                assert!(page.contains(&format!("<a href=\"{path}\">")), "{path}");
            }
            assert!(page.contains("http://example.am:8080/api/v1/persons/$PSN"));
            assert!(page.contains("-H &apos;Accept: application/xml&apos;"));
            assert!(page.contains("X-API-Key: $API_KEY"));
        }
    }

    #[test]
    fn the_host_is_echoed_only_when_plain_and_always_escaped() {
        let mut h = HeaderMap::new();
        h.insert(HOST, HeaderValue::from_static("register.example.am:8443"));
        assert_eq!(example_host(&h), "register.example.am:8443");
        h.insert(HOST, HeaderValue::from_static("[::1]:8080"));
        assert_eq!(example_host(&h), "[::1]:8080");
        h.insert(
            HOST,
            HeaderValue::from_static("x\"><script>alert(1)</script>"),
        );
        assert_eq!(example_host(&h), "127.0.0.1:8080");
        assert_eq!(example_host(&HeaderMap::new()), "127.0.0.1:8080");
        let page = html(Lang::En, "a<b>&\"'");
        assert!(page.contains("http://a&lt;b&gt;&amp;&quot;&apos;/api/v1/persons/$PSN"));
        assert!(!page.contains("a<b>"));
        assert_eq!(escape("<&>\"'"), "&lt;&amp;&gt;&quot;&apos;");
    }
}
