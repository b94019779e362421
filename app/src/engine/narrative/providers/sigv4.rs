//! AWS Signature Version 4 for one request: canonical request, string to sign, derived key,
//! `Authorization` header. Written against AWS's published algorithm and checked against its
//! published test vector.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// AWS credentials.
pub struct Credentials {
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
    /// Session token (temporary credentials).
    pub session_token: Option<String>,
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut m = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    m.update(data.as_bytes());
    m.finalize().into_bytes().to_vec()
}

fn uri_encode(s: &str, keep_slash: bool) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            b'/' if keep_slash => "/".into(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// What is signed: the request and where it goes.
pub struct Signing<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// The full URL.
    pub url: &'a url::Url,
    /// Extra headers to sign (besides host and x-amz-date).
    pub headers: &'a [(&'a str, &'a str)],
    /// The body.
    pub body: &'a [u8],
    /// AWS region.
    pub region: &'a str,
    /// AWS service name (`bedrock`).
    pub service: &'a str,
}

/// The headers to add (`x-amz-date`, `authorization`, and the session token if any).
pub fn sign(req: &Signing<'_>, creds: &Credentials, now: chrono::DateTime<chrono::Utc>) -> Vec<(String, String)> {
    let Signing { method, url, headers, body, region, service } = *req;
    let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
    let date = now.format("%Y%m%d").to_string();
    let payload_hash = hex::encode(Sha256::digest(body));
    let host = match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_string(),
    };
    let mut signed: Vec<(String, String)> =
        headers.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_string())).collect();
    signed.push(("host".into(), host));
    signed.push(("x-amz-date".into(), amz_date.clone()));
    if let Some(t) = &creds.session_token {
        signed.push(("x-amz-security-token".into(), t.clone()));
    }
    signed.sort();
    // Non-S3 services encode each path segment of the (already encoded) path once more.
    let canonical_uri = {
        let p = url.path();
        let enc = p.split('/').map(|seg| uri_encode(seg, false)).collect::<Vec<_>>().join("/");
        if enc.is_empty() {
            "/".to_string()
        } else {
            enc
        }
    };
    let mut query: Vec<(String, String)> =
        url.query_pairs().map(|(k, v)| (uri_encode(&k, false), uri_encode(&v, false))).collect();
    query.sort();
    let canonical_query = query.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
    let canonical_headers: String = signed.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let signed_headers = signed.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(";");
    let canonical_request =
        format!("{method}\n{canonical_uri}\n{canonical_query}\n{canonical_headers}\n{signed_headers}\n{payload_hash}");
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let string_to_sign =
        format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}", hex::encode(Sha256::digest(canonical_request.as_bytes())));
    let k_date = hmac(format!("AWS4{}", creds.secret_access_key).as_bytes(), &date);
    let k_region = hmac(&k_date, region);
    let k_service = hmac(&k_region, service);
    let k_signing = hmac(&k_service, "aws4_request");
    let signature = hex::encode(hmac(&k_signing, &string_to_sign));
    let mut out: Vec<(String, String)> = signed.into_iter().filter(|(k, _)| k.starts_with("x-amz-")).collect();
    out.push((
        "authorization".into(),
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            creds.access_key_id
        ),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn matches_the_aws_get_vanilla_test_vector() {
        // AWS SigV4 test suite "get-vanilla": GET / on example.amazonaws.com, service "service".
        let creds = Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        };
        let url = url::Url::parse("https://example.amazonaws.com/").unwrap();
        let now = chrono::Utc.with_ymd_and_hms(2015, 8, 30, 12, 36, 0).unwrap();
        let req =
            Signing { method: "GET", url: &url, headers: &[], body: b"", region: "us-east-1", service: "service" };
        let h = sign(&req, &creds, now);
        let auth = &h.iter().find(|(k, _)| k == "authorization").unwrap().1;
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }
}
