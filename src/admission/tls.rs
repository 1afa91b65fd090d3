//! TLS for the webhook: TLS 1.2 and 1.3 only (rustls offers nothing
//! older), a certificate either read from files and re-read when they
//! change (cert-manager rotates them in place) or generated at start for
//! local trials.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// Certificate and key files larger than this are refused: a PEM chain is a
/// few kilobytes.
const MAX_PEM_BYTES: u64 = 1 << 20;

/// The crypto provider (ring: no C toolchain beyond what `cc` builds).
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A server configuration serving whatever certificate `store` holds.
pub fn server_config(store: Arc<CertStore>) -> Result<rustls::ServerConfig, String> {
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_cert_resolver(store);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The certificate in use, swapped when its files change.
#[derive(Debug)]
pub struct CertStore {
    current: RwLock<Arc<CertifiedKey>>,
    files: Option<CertFiles>,
    /// The files' bytes when last loaded: compared, not their times, which
    /// a quick rewrite may leave unchanged.
    seen: RwLock<Option<Pem>>,
}

/// Where a certificate chain and its key are read from.
#[derive(Clone, Debug)]
pub struct CertFiles {
    /// PEM certificate chain, leaf first.
    pub cert: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// A certificate file's and a key file's bytes.
type Pem = (Vec<u8>, Vec<u8>);

impl CertStore {
    /// Reads the files; an error names the file and what is wrong.
    pub fn from_files(files: CertFiles) -> Result<CertStore, String> {
        let pem = read_both(&files)?;
        let key = load(&files, &pem)?;
        Ok(CertStore {
            current: RwLock::new(Arc::new(key)),
            files: Some(files),
            seen: RwLock::new(Some(pem)),
        })
    }

    /// Serves a certificate made in memory (never reloaded).
    pub fn fixed(key: CertifiedKey) -> CertStore {
        CertStore {
            current: RwLock::new(Arc::new(key)),
            files: None,
            seen: RwLock::new(None),
        }
    }

    /// Re-reads the files when their time or size changed. `Ok(true)`: a
    /// new certificate is in use; an error leaves the old one in use (a
    /// rotation caught half-written is retried at the next check).
    pub fn reload_if_changed(&self) -> Result<bool, String> {
        let Some(files) = &self.files else {
            return Ok(false);
        };
        let pem = read_both(files)?;
        if self.seen.read().is_ok_and(|s| s.as_ref() == Some(&pem)) {
            return Ok(false);
        }
        let key = load(files, &pem)?;
        if let Ok(mut current) = self.current.write() {
            *current = Arc::new(key);
        }
        if let Ok(mut seen) = self.seen.write() {
            *seen = Some(pem);
        }
        Ok(true)
    }
}

impl ResolvesServerCert for CertStore {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.current.read().ok().map(|k| Arc::clone(&k))
    }
}

fn read_both(files: &CertFiles) -> Result<Pem, String> {
    Ok((read_pem(&files.cert)?, read_pem(&files.key)?))
}

fn read_pem(path: &Path) -> Result<Vec<u8>, String> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| format!("{shown}: {e}"))?;
    if !meta.is_file() || meta.len() > MAX_PEM_BYTES {
        return Err(format!(
            "{shown}: not a PEM file of at most {MAX_PEM_BYTES} bytes"
        ));
    }
    std::fs::read(path).map_err(|e| format!("{shown}: {e}"))
}

fn load(files: &CertFiles, (cert_pem, key_pem): &Pem) -> Result<CertifiedKey, String> {
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e}", files.cert.display()))?;
    if chain.is_empty() {
        return Err(format!("{}: no CERTIFICATE in it", files.cert.display()));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|e| format!("{}: {e}", files.key.display()))?;
    certified(chain, key)
        .map_err(|e| format!("{} and {}: {e}", files.cert.display(), files.key.display()))
}

fn certified(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<CertifiedKey, String> {
    let signer = provider()
        .key_provider
        .load_private_key(key)
        .map_err(|e| e.to_string())?;
    let certified = CertifiedKey::new(chain, signer);
    certified
        .keys_match()
        .map_err(|e| format!("the key does not belong to the certificate ({e})"))?;
    Ok(certified)
}

/// A CA and a server certificate it signed, made at start.
pub struct SelfSigned {
    /// The CA certificate, PEM: what the webhook configuration's
    /// `caBundle` holds (base64 of this).
    pub ca_pem: String,
    /// The server's certificate, PEM.
    pub cert_pem: String,
    /// The server's private key, PEM (PKCS#8).
    pub key_pem: String,
    /// The server's certificate and key, ready to serve.
    pub key: CertifiedKey,
}

/// Makes a CA and a certificate for `names` (DNS names or IP addresses).
pub fn self_signed(names: &[String]) -> Result<SelfSigned, String> {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    let e = |e: rcgen::Error| format!("cannot make a certificate: {e}");
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(e)?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "rampart admission local CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let issuer = CertifiedIssuer::self_signed(ca, KeyPair::generate().map_err(e)?).map_err(e)?;
    let mut params = CertificateParams::new(names.to_vec()).map_err(e)?;
    params.distinguished_name.push(
        DnType::CommonName,
        names.first().cloned().unwrap_or_default(),
    );
    let server_key = KeyPair::generate().map_err(e)?;
    let cert = params.signed_by(&server_key, &issuer).map_err(e)?;
    let key = PrivateKeyDer::try_from(server_key.serialize_der())
        .map_err(|m| format!("cannot use the generated key: {m}"))?;
    Ok(SelfSigned {
        ca_pem: issuer.pem(),
        cert_pem: cert.pem(),
        key_pem: server_key.serialize_pem(),
        key: certified(vec![cert.der().clone()], key)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_self_signed_pair_matches_and_reload_follows_the_files() {
        let made = self_signed(&["localhost".into(), "127.0.0.1".into()]).expect("made");
        assert!(made.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        let dir = tempfile::tempdir().expect("tempdir");
        let files = CertFiles {
            cert: dir.path().join("tls.crt"),
            key: dir.path().join("tls.key"),
        };
        // A missing file is an error naming it.
        let err = CertStore::from_files(files.clone()).expect_err("missing");
        assert!(err.contains("tls.crt"), "{err}");
        let write = |pem_cert: &str, pem_key: &str| {
            std::fs::write(&files.cert, pem_cert).expect("write");
            std::fs::write(&files.key, pem_key).expect("write");
        };
        let pair = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("pair");
        write(&pair.cert.pem(), &pair.signing_key.serialize_pem());
        let store = CertStore::from_files(files.clone()).expect("loads");
        assert_eq!(store.reload_if_changed(), Ok(false));
        // A key of another certificate is refused and the old pair kept.
        let other = rcgen::generate_simple_self_signed(vec!["x".to_string()]).expect("pair");
        write(&pair.cert.pem(), &other.signing_key.serialize_pem());
        let err = store.reload_if_changed().expect_err("mismatch");
        assert!(err.contains("does not belong"), "{err}");
        write(&other.cert.pem(), &other.signing_key.serialize_pem());
        assert_eq!(store.reload_if_changed(), Ok(true));
        let served = store.current.read().expect("lock").cert[0].clone();
        assert_eq!(served.as_ref(), other.cert.der().as_ref());
    }
}
