//! `AwsSecretStore` against the emulator: SSM SecureStrings decrypted, Secrets Manager versions
//! by stage and id, missing names `NotFound` without a value in the error.

use aws_sdk_ssm::types::ParameterType;
use kiln_aws::AwsSecretStore;
use kiln_core::ports::{PortErrorKind, SecretStore};

use crate::support;

#[tokio::test]
async fn parameters_are_decrypted() {
    let url = moto!();
    let sdk = support::sdk(&url).await;
    let ssm = aws_sdk_ssm::Client::new(&sdk);
    let name = format!("/kiln/{}", support::unique("token"));
    let put = ssm
        .put_parameter()
        .name(&name)
        .value("p4ssw0rd-value")
        .r#type(ParameterType::SecureString)
        .send()
        .await;
    assert!(put.is_ok(), "{put:?}");
    let store = AwsSecretStore::new(&sdk);
    assert_eq!(store.get_parameter(&name).await.ok().as_deref(), Some("p4ssw0rd-value"));
    let missing = format!("{name}-missing");
    let e = store.get_parameter(&missing).await.err();
    assert_eq!(e.as_ref().map(|e| e.kind), Some(PortErrorKind::NotFound));
    let text = e.map(|e| kiln_core::error_chain(&e)).unwrap_or_default();
    assert!(text.contains(&missing), "{text}");
    assert!(!text.contains("p4ssw0rd-value"), "{text}");
}

#[tokio::test]
async fn secrets_by_stage_and_version() {
    let url = moto!();
    let sdk = support::sdk(&url).await;
    let sm = aws_sdk_secretsmanager::Client::new(&sdk);
    let name = support::unique("kiln/db");
    let created =
        sm.create_secret().name(&name).secret_string(r#"{"password":"one"}"#).send().await;
    let first_version = created.ok().and_then(|c| c.version_id().map(str::to_owned));
    let Some(first_version) = first_version else { panic!("create secret") };
    let second =
        sm.put_secret_value().secret_id(&name).secret_string(r#"{"password":"two"}"#).send().await;
    assert!(second.is_ok(), "{second:?}");
    let store = AwsSecretStore::new(&sdk);
    let get = |stage: Option<&'static str>, id: Option<String>| {
        let (store, name) = (store.clone(), name.clone());
        async move { store.get_secret(&name, stage, id.as_deref()).await }
    };
    assert_eq!(get(None, None).await.ok().as_deref(), Some(r#"{"password":"two"}"#));
    assert_eq!(get(Some("AWSCURRENT"), None).await.ok().as_deref(), Some(r#"{"password":"two"}"#));
    assert_eq!(get(Some("AWSPREVIOUS"), None).await.ok().as_deref(), Some(r#"{"password":"one"}"#));
    assert_eq!(get(None, Some(first_version)).await.ok().as_deref(), Some(r#"{"password":"one"}"#));
    let e = store.get_secret("kiln/absent", None, None).await.err();
    assert_eq!(e.as_ref().map(|e| e.kind), Some(PortErrorKind::NotFound));
    assert!(e.is_some_and(|e| e.operation == "get secret kiln/absent"));
    let e = store.get_secret(&name, Some("NO_SUCH_STAGE"), None).await.err();
    assert_eq!(e.map(|e| e.kind), Some(PortErrorKind::NotFound));
}
