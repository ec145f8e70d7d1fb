//! TLS: the serving certificate (from files, reloaded on change), the
//! optional client-certificate check of the API server, and a self-signed
//! CA and certificate for local use.
//!
//! The crypto provider is ring, passed explicitly, so the server does not
//! depend on a process-wide default (kube-rs in the same binary uses ring too).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use rustls::server::WebPkiClientVerifier;
use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// Where the serving certificate comes from.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// CA bundle that client certificates must chain to (mTLS); `None` accepts any client.
    pub client_ca: Option<PathBuf>,
}

/// A loaded TLS configuration and when its certificate expires.
pub struct LoadedTls {
    pub config: Arc<rustls::ServerConfig>,
    /// `notAfter` of the leaf certificate, Unix seconds.
    pub expires_at: i64,
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .with_context(|| format!("cannot read certificates from {}", path.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("{}: not a PEM certificate file", path.display()))?;
    if certs.is_empty() {
        bail!(
            "{}: no certificate found (expected PEM `BEGIN CERTIFICATE`)",
            path.display()
        );
    }
    Ok(certs)
}

/// Reads the files and builds a server configuration (HTTP/1.1 and HTTP/2).
pub fn load(files: &TlsFiles) -> Result<LoadedTls> {
    let certs = read_certs(&files.cert)?;
    let key = PrivateKeyDer::from_pem_file(&files.key).with_context(|| {
        format!(
            "{}: no private key found (expected PEM PKCS#8, PKCS#1 or SEC1)",
            files.key.display()
        )
    })?;
    let expires_at = not_after(&certs[0])?;
    let builder = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| anyhow!("TLS setup: {e}"))?;
    let builder = match &files.client_ca {
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for cert in read_certs(ca)? {
                roots
                    .add(cert)
                    .with_context(|| format!("{}: invalid CA certificate", ca.display()))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                .build()
                .map_err(|e| anyhow!("client CA {}: {e}", ca.display()))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_single_cert(certs, key).map_err(|e| {
        anyhow!(
            "{} and {} do not make a certificate and its key: {e}",
            files.cert.display(),
            files.key.display()
        )
    })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(LoadedTls {
        config: Arc::new(config),
        expires_at,
    })
}

fn not_after(cert: &CertificateDer<'_>) -> Result<i64> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref())
        .map_err(|e| anyhow!("cannot parse the serving certificate: {e}"))?;
    Ok(parsed.validity().not_after.timestamp())
}

/// A CA and a serving certificate signed by it, in PEM.
pub struct SelfSigned {
    pub ca_cert: String,
    pub cert: String,
    pub key: String,
}

impl SelfSigned {
    /// The `caBundle` of a webhook configuration: the CA in base64.
    pub fn ca_bundle(&self) -> String {
        base64_encode(self.ca_cert.as_bytes())
    }

    /// Writes `ca.crt`, `tls.crt` and `tls.key` into `dir` and returns the files.
    pub fn write(&self, dir: &Path) -> Result<TlsFiles> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let write = |name: &str, text: &str| -> Result<PathBuf> {
            let path = dir.join(name);
            std::fs::write(&path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            Ok(path)
        };
        write("ca.crt", &self.ca_cert)?;
        let cert = write("tls.crt", &self.cert)?;
        let key = write("tls.key", &self.key)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600));
        }
        Ok(TlsFiles {
            cert,
            key,
            client_ca: None,
        })
    }
}

/// Generates a CA and a serving certificate for `names` (DNS names or IP
/// addresses), valid for one year.
pub fn self_signed(names: &[String]) -> Result<SelfSigned> {
    use rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose,
        IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };
    let (not_before, not_after) = validity_window();
    let ca_key = KeyPair::generate().map_err(|e| anyhow!("generating the CA key: {e}"))?;
    let mut ca_params =
        CertificateParams::new(Vec::<String>::new()).map_err(|e| anyhow!("CA parameters: {e}"))?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "Palisade local webhook CA");
    ca_params.distinguished_name = dn;
    ca_params.not_before = not_before;
    ca_params.not_after = not_after;
    let ca_cert = ca_params
        .self_signed(&ca_key)
        .map_err(|e| anyhow!("signing the CA: {e}"))?;
    let issuer = Issuer::new(ca_params, ca_key);

    let key = KeyPair::generate().map_err(|e| anyhow!("generating the serving key: {e}"))?;
    let mut params = CertificateParams::new(names.to_vec())
        .map_err(|e| anyhow!("certificate names {names:?}: {e}"))?;
    let mut dn = DistinguishedName::new();
    dn.push(
        DnType::CommonName,
        names.first().cloned().unwrap_or_else(|| "palisade".into()),
    );
    params.distinguished_name = dn;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.not_before = not_before;
    params.not_after = not_after;
    let cert = params
        .signed_by(&key, &issuer)
        .map_err(|e| anyhow!("signing the serving certificate: {e}"))?;
    Ok(SelfSigned {
        ca_cert: ca_cert.pem(),
        cert: cert.pem(),
        key: key.serialize_pem(),
    })
}

/// From one day ago to one year ahead.
fn validity_window() -> (time::OffsetDateTime, time::OffsetDateTime) {
    let now = time::OffsetDateTime::now_utc();
    (
        now - time::Duration::days(1),
        now + time::Duration::days(365),
    )
}

fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_alphabet() {
        assert_eq!(base64_encode(b""), "");
        assert_eq!(base64_encode(b"f"), "Zg==");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn self_signed_certificates_load_and_expire_in_a_year() {
        let dir = tempfile::tempdir().unwrap();
        let generated = self_signed(&["localhost".into(), "127.0.0.1".into()]).unwrap();
        let files = generated.write(dir.path()).unwrap();
        let loaded = load(&files).unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        assert!((loaded.expires_at - now - 365 * 86_400).abs() < 2 * 86_400);
        let with_ca = TlsFiles {
            client_ca: Some(dir.path().join("ca.crt")),
            ..files
        };
        assert!(load(&with_ca).is_ok());
        let broken = TlsFiles {
            cert: dir.path().join("tls.key"),
            key: dir.path().join("tls.key"),
            client_ca: None,
        };
        assert!(load(&broken).is_err());
    }
}
