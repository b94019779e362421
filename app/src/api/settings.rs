//! Settings server functions: the AI provider (admin). Same engine calls as `/api/v1/ai/provider`.

use crate::model::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The AI provider form (secrets arrive as the placeholder when set).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct AiForm {
    /// Provider name.
    pub provider: String,
    /// Model.
    pub model: String,
    /// Base URL.
    pub base_url: String,
    /// Region (Bedrock).
    pub region: String,
    /// API key or access key id.
    pub api_key: String,
    /// Secret access key (Bedrock).
    pub secret: String,
    /// Where the settings come from.
    pub source: String,
}

#[cfg(feature = "ssr")]
impl From<crate::engine::ai_settings::AiProviderView> for AiForm {
    fn from(v: crate::engine::ai_settings::AiProviderView) -> Self {
        AiForm {
            provider: v.provider,
            model: v.model,
            base_url: v.base_url,
            region: v.region,
            api_key: v.api_key,
            secret: v.secret,
            source: v.source,
        }
    }
}

/// Reads the AI provider settings (admin).
#[server(prefix = "/sfn", endpoint = "ai_provider_get")]
pub async fn get_ai_provider() -> Result<AiForm, AppError> {
    let (state, p) = (super::ctx::state()?, super::ctx::principal()?);
    p.require(crate::model::Role::Admin)?;
    Ok(crate::engine::ai_settings::get(&state, &p.tenant_id).await?.into())
}

/// Saves the AI provider settings (admin).
#[server(prefix = "/sfn", endpoint = "ai_provider_put")]
pub async fn put_ai_provider(form: AiForm) -> Result<AiForm, AppError> {
    use crate::engine::ai_settings::AiProviderView;
    let (state, p) = (super::ctx::state()?, super::ctx::principal()?);
    p.require(crate::model::Role::Admin)?;
    let v = AiProviderView {
        provider: form.provider,
        model: form.model,
        base_url: form.base_url,
        region: form.region,
        api_key: form.api_key,
        secret: form.secret,
        source: String::new(),
    };
    Ok(crate::engine::ai_settings::put(&state, &p.tenant_id, &p.actor, v).await?.into())
}

/// Tries the configured provider (admin); answers a line for the page.
#[server(prefix = "/sfn", endpoint = "ai_provider_test")]
pub async fn test_ai_provider() -> Result<(bool, String), AppError> {
    let (state, p) = (super::ctx::state()?, super::ctx::principal()?);
    p.require(crate::model::Role::Admin)?;
    let r = crate::engine::ai_settings::test(&state, &p.tenant_id).await?;
    Ok((r.ok, format!("{}: {}", r.provider, r.message)))
}
