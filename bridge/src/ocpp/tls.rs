//! OCPP security profile 2: the central system behind TLS (`wss://`), with rustls.

use rustls::{
	crypto::ring,
	pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer},
	ServerConfig,
};
use std::{
	path::{Path, PathBuf},
	sync::Arc,
};
use tokio_rustls::TlsAcceptor;

/// Why the TLS setup failed.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
	/// The certificate file cannot be read or holds no PEM certificate.
	#[error("ocpp.tls.cert: {path}: {error}")]
	Cert {
		/// The file.
		path: PathBuf,
		/// Why.
		error: rustls::pki_types::pem::Error,
	},
	/// The certificate file holds no certificate.
	#[error("ocpp.tls.cert: {0}: no certificate in it")]
	NoCert(PathBuf),
	/// The key file cannot be read or holds no PEM private key.
	#[error("ocpp.tls.key: {path}: {error}")]
	Key {
		/// The file.
		path: PathBuf,
		/// Why.
		error: rustls::pki_types::pem::Error,
	},
	/// rustls refused the certificate and key (e.g. they do not belong together).
	#[error("ocpp.tls: {0}")]
	Config(#[from] rustls::Error),
}

/// A TLS acceptor serving the certificate chain in `cert` (PEM, leaf first) with the
/// private key in `key` (PEM: PKCS#8, PKCS#1 or SEC1).
pub fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, TlsError> {
	let chain = CertificateDer::pem_file_iter(cert)
		.and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
		.map_err(|error| TlsError::Cert { path: cert.to_path_buf(), error })?;
	if chain.is_empty() {
		return Err(TlsError::NoCert(cert.to_path_buf()));
	}
	let key = PrivateKeyDer::from_pem_file(key)
		.map_err(|error| TlsError::Key { path: key.to_path_buf(), error })?;
	let config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
		.with_safe_default_protocol_versions()?
		.with_no_client_auth()
		.with_single_cert(chain, key)?;
	Ok(TlsAcceptor::from(Arc::new(config)))
}
