//! The deterministic demo data generator (PRODUCT §2): 120 days of plausible decisioning data
//! with trends, weekly seasonality and injected anomalies, written through the same rollup
//! mechanism as real ingest. Same seed + same end day + same scale = the same rows.

pub mod generate;
pub mod rng;
pub mod world;

use super::db::{bulk_insert, Db, Val};
use super::rollups::{day_of, RollupBatch, DAY_MS};
use super::store::{self, catalogue};
use super::{auth, AppState};
use crate::model::Role;
use anyhow::Context as _;
use sha2::{Digest, Sha256};
use world::{World, DAYS, FAILING_CONNECTOR};

/// The demo's default seed.
pub const DEFAULT_SEED: u64 = 20_261_130;
/// The demo users' password (stated in the README).
pub const DEMO_PASSWORD: &str = "narrate-demo";

/// What a load wrote.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Interaction rows.
    pub interactions: u64,
    /// Decision rows.
    pub decisions: u64,
    /// Touchpoint rows.
    pub touchpoints: u64,
}

/// Loads the demo world and `DAYS` days of events ending on the UTC day of `now` into `tenant_id`.
pub async fn load(db: &Db, tenant_id: &str, seed: u64, scale: f64, now: i64) -> anyhow::Result<Summary> {
    let world = world::build(seed, scale);
    let end_day = day_of(now);
    let mut tx = db.pool.begin().await?;
    write_catalogue(&mut tx, tenant_id, &world, now, end_day).await.context("writing the demo catalogue")?;
    tx.commit().await?;
    let mut summary = Summary::default();
    let mut spent = vec![0i64; world.offers.len()];
    // Ten days per transaction: bounded memory at any scale, few commits at the default one.
    for chunk_start in (0..DAYS).step_by(10) {
        let mut tx = db.pool.begin().await?;
        let mut batch = RollupBatch::default();
        for index in chunk_start..(chunk_start + 10).min(DAYS) {
            let d = generate::day(&world, seed, scale, end_day, index, now);
            for i in &d.interactions {
                if i.outcome == super::rollups::Outcome::Conversion {
                    spent[i.offer] += i.value_cents / 20; // cost of the incentive: 5 % of value
                }
            }
            summary.interactions += d.interactions.len() as u64;
            summary.decisions += d.decisions.len() as u64;
            summary.touchpoints += d.paths.iter().map(|p| p.touches.len() as u64).sum::<u64>();
            write_day(&mut tx, tenant_id, &world, &d, &mut batch)
                .await
                .with_context(|| format!("writing day {index}"))?;
        }
        batch.apply(&mut tx, tenant_id).await.context("applying rollups")?;
        tx.commit().await?;
    }
    for (spec, cents) in world.offers.iter().zip(spent) {
        sqlx::query("UPDATE offers SET spent_cents = $1 WHERE id = $2")
            .bind(cents)
            .bind(&spec.offer.id)
            .execute(&db.pool)
            .await?;
    }
    Ok(summary)
}

async fn write_catalogue(
    conn: &mut sqlx::AnyConnection,
    tenant_id: &str,
    w: &World,
    now: i64,
    end_day: i64,
) -> Result<(), sqlx::Error> {
    let segs: Vec<_> = w.segments.iter().map(|s| s.0.clone()).collect();
    catalogue::insert_segments(conn, tenant_id, &segs, now).await?;
    let chans: Vec<_> = w.channels.iter().map(|c| c.0.clone()).collect();
    catalogue::insert_channels(conn, tenant_id, &chans, now).await?;
    let offers: Vec<_> = w.offers.iter().map(|o| o.offer.clone()).collect();
    catalogue::insert_offers(conn, tenant_id, &offers, now).await?;
    let t = || Val::S(tenant_id.to_string());
    let rows: Vec<Vec<Val>> = w
        .models
        .iter()
        .map(|(id, k, n, kind)| {
            vec![Val::S(id.clone()), t(), Val::S((*k).into()), Val::S((*n).into()), Val::S((*kind).into()), Val::I(now)]
        })
        .collect();
    bulk_insert(conn, "INSERT INTO models (id, tenant_id, key, name, kind, created_at)", "", &rows).await?;
    let exps = [
        ("exp_subject_lines", "Email subject lines A/B", "running", 21, r#"["control","urgency","benefit"]"#),
        ("exp_push_timing", "Push send-time test", "running", 9, r#"["morning","evening"]"#),
        ("exp_card_creative", "Platinum card creative", "completed", 75, r#"["blue","black"]"#),
    ];
    let rows: Vec<Vec<Val>> = exps
        .iter()
        .enumerate()
        .map(|(i, (k, n, st, ago, v))| {
            vec![
                Val::S(format!("{}-exp-{i}", &w.models[0].0[..8])),
                t(),
                Val::S((*k).into()),
                Val::S((*n).into()),
                Val::S((*st).into()),
                Val::I(end_day - ago * DAY_MS),
                Val::S((*v).into()),
            ]
        })
        .collect();
    bulk_insert(conn, "INSERT INTO experiments (id, tenant_id, key, name, status, started_at, variants)", "", &rows)
        .await?;
    let rows: Vec<Vec<Val>> = w
        .connectors
        .iter()
        .map(|(id, k, n, kind)| {
            let failing = *k == FAILING_CONNECTOR;
            let status = if failing { "failing" } else { "healthy" };
            let last = if failing { end_day - 3 * DAY_MS + 4 * 3_600_000 } else { now - 20 * 60_000 };
            vec![
                Val::S(id.clone()),
                t(),
                Val::S((*k).into()),
                Val::S((*n).into()),
                Val::S((*kind).into()),
                Val::S(status.into()),
                Val::I(last),
            ]
        })
        .collect();
    bulk_insert(conn, "INSERT INTO connectors (id, tenant_id, key, name, kind, status, last_sync_at)", "", &rows)
        .await?;
    let rows: Vec<Vec<Val>> = w
        .pipelines
        .iter()
        .enumerate()
        .map(|(i, (id, k, n, c))| {
            vec![
                Val::S(id.clone()),
                t(),
                Val::S((*k).into()),
                Val::S((*n).into()),
                Val::S(w.connectors[*c].0.clone()),
                Val::S("active".into()),
                Val::I(4 + i as i64 * 3),
            ]
        })
        .collect();
    bulk_insert(conn, "INSERT INTO pipelines (id, tenant_id, key, name, connector_id, status, schema_count)", "", &rows)
        .await
}

async fn write_day(
    conn: &mut sqlx::AnyConnection,
    tenant_id: &str,
    w: &World,
    d: &generate::Day,
    batch: &mut RollupBatch,
) -> Result<(), sqlx::Error> {
    let t = || Val::S(tenant_id.to_string());
    let (seg, ch, off) = (
        |i: usize| w.segments[i].0.id.clone(),
        |i: usize| w.channels[i].0.id.clone(),
        |i: usize| w.offers[i].offer.id.clone(),
    );
    let mut rows = Vec::with_capacity(d.interactions.len());
    for i in &d.interactions {
        batch.interaction(i.ts, &off(i.offer), &ch(i.channel), &seg(i.segment), i.outcome, i.value_cents);
        rows.push(vec![
            t(),
            Val::I(i.ts),
            Val::S(i.customer_id.clone()),
            Val::S(off(i.offer)),
            Val::S(ch(i.channel)),
            Val::S(seg(i.segment)),
            Val::S(i.outcome.as_str().into()),
            Val::I(i.value_cents),
        ]);
    }
    bulk_insert(
        conn,
        "INSERT INTO interactions (tenant_id, ts, customer_id, offer_id, channel_id, segment_id, outcome, value_cents)",
        "",
        &rows,
    )
    .await?;
    let mut rows = Vec::with_capacity(d.decisions.len());
    for x in &d.decisions {
        let selected = x.selected_offer.map(off);
        batch.decision(x.ts, &seg(x.segment), &ch(x.channel), x.latency_ms, x.funnel, x.degraded, selected.as_deref());
        let mut r = vec![t(), Val::I(x.ts), Val::S(seg(x.segment)), Val::S(ch(x.channel)), Val::F(x.latency_ms)];
        r.extend(x.funnel.iter().map(|v| Val::I(*v)));
        r.push(Val::I(i64::from(x.degraded)));
        r.push(Val::OptS(x.selected_offer.map(off)));
        rows.push(r);
    }
    bulk_insert(
        conn,
        "INSERT INTO decisions (tenant_id, ts, segment_id, channel_id, latency_ms, funnel_initial, funnel_qualified, \
         funnel_unsuppressed, funnel_contactable, funnel_scored, degraded, selected_offer_id)",
        "",
        &rows,
    )
    .await?;
    let mut rows = Vec::new();
    for p in &d.paths {
        let touches = generate::touches(w, p);
        batch.conversion_path(p.ts, &seg(p.segment), &touches, p.value_cents);
        for tp in touches {
            rows.push(vec![
                t(),
                Val::S(p.customer_id.clone()),
                Val::S(tp.channel_id),
                Val::S(tp.offer_id),
                Val::I(tp.ts),
            ]);
        }
    }
    bulk_insert(conn, "INSERT INTO touchpoints (tenant_id, customer_id, channel_id, offer_id, ts)", "", &rows).await?;
    let rows: Vec<Vec<Val>> = d
        .evaluations
        .iter()
        .map(|(m, auc, psi, ks, fi)| {
            vec![
                t(),
                Val::S(w.models[*m].0.clone()),
                Val::I(d.start),
                Val::F(*auc),
                Val::F(*psi),
                Val::F(*ks),
                Val::S(fi.clone()),
            ]
        })
        .collect();
    bulk_insert(
        conn,
        "INSERT INTO model_evaluations (tenant_id, model_id, day, auc, psi, ks, feature_importance)",
        "",
        &rows,
    )
    .await?;
    let rows: Vec<Vec<Val>> = d
        .pipeline_runs
        .iter()
        .enumerate()
        .map(|(i, (p, s, e, st, rin, rout, err))| {
            vec![
                Val::S(format!("{}-{}-{i}", &w.pipelines[*p].0[..13], d.index)),
                t(),
                Val::S(w.pipelines[*p].0.clone()),
                Val::I(*s),
                Val::I(*e),
                Val::S((*st).into()),
                Val::I(*rin),
                Val::I(*rout),
                Val::OptS(err.clone()),
            ]
        })
        .collect();
    bulk_insert(
        conn,
        "INSERT INTO pipeline_runs (id, tenant_id, pipeline_id, started_at, ended_at, status, rows_in, rows_out, error)",
        "",
        &rows,
    )
    .await?;
    let rows: Vec<Vec<Val>> =
        d.flow_runs.iter().map(|(ts, st, l)| vec![t(), Val::I(*ts), Val::S((*st).into()), Val::F(*l)]).collect();
    bulk_insert(conn, "INSERT INTO flow_runs (tenant_id, ts, status, latency_ms)", "", &rows).await?;
    let rows: Vec<Vec<Val>> = d
        .breaker_events
        .iter()
        .map(|(b, st, ts)| vec![t(), Val::S(w.breakers[*b].into()), Val::S((*st).into()), Val::I(*ts)])
        .collect();
    bulk_insert(conn, "INSERT INTO breaker_events (tenant_id, breaker, state, ts)", "", &rows).await?;
    let rows: Vec<Vec<Val>> = d.dlq.iter().map(|(ts, n)| vec![t(), Val::I(*ts), Val::I(*n)]).collect();
    bulk_insert(conn, "INSERT INTO dlq_samples (tenant_id, ts, depth)", "", &rows).await
}

/// A digest of every generated row for (seed, scale, end day, now): equal digests, equal data.
pub fn digest(seed: u64, scale: f64, now: i64) -> String {
    let world = world::build(seed, scale);
    let mut h = Sha256::new();
    h.update(format!("{world:?}").as_bytes());
    for index in 0..DAYS {
        let d = generate::day(&world, seed, scale, day_of(now), index, now);
        h.update(format!("{:?}{:?}{:?}", d.interactions, d.decisions, d.paths).as_bytes());
        h.update(
            format!("{:?}{:?}{:?}{:?}{:?}", d.evaluations, d.pipeline_runs, d.flow_runs, d.breaker_events, d.dlq)
                .as_bytes(),
        );
    }
    hex::encode(h.finalize())
}

/// The demo tenant's slug.
pub const DEMO_TENANT: &str = "acme";

/// On an empty database, creates tenant `acme` with its three users and loads the demo data.
/// Returns whether anything was created.
pub async fn ensure_demo_tenant(state: &AppState) -> anyhow::Result<bool> {
    if store::tenants::count(&state.db).await? > 0 {
        return Ok(false);
    }
    let now = state.clock.now_ms();
    let tenant = store::tenants::create(&state.db, DEMO_TENANT, "Acme", now).await?;
    let hash = auth::hash_password(DEMO_PASSWORD)?;
    for (role, name) in [(Role::Admin, "Ada Admin"), (Role::Editor, "Eddie Editor"), (Role::Viewer, "Vic Viewer")] {
        let email = format!("{}@acme.example", role.as_str());
        store::users::create(&state.db, &tenant.id, &email, name, &hash, role, now).await?;
    }
    let summary = load(&state.db, &tenant.id, DEFAULT_SEED, 1.0, now).await?;
    tracing::info!(
        event = "demo.loaded",
        tenant.id = %tenant.id,
        interactions = summary.interactions,
        decisions = summary.decisions,
        "demo tenant created"
    );
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_000_000_000; // a fixed instant in 2026

    #[test]
    fn same_seed_gives_the_same_rows_and_another_seed_does_not() {
        assert_eq!(digest(42, 0.05, NOW), digest(42, 0.05, NOW));
        assert_ne!(digest(42, 0.05, NOW), digest(43, 0.05, NOW));
    }

    #[test]
    fn no_event_lies_in_the_future_and_history_spans_120_days() {
        let w = world::build(1, 0.05);
        let first = generate::day(&w, 1, 0.05, day_of(NOW), 0, NOW);
        let last = generate::day(&w, 1, 0.05, day_of(NOW), DAYS - 1, NOW);
        assert_eq!(last.start - first.start, (DAYS - 1) * DAY_MS);
        assert!(last.interactions.iter().all(|i| i.ts <= NOW));
        assert!(!first.interactions.is_empty());
    }

    #[test]
    fn the_anomaly_offer_loses_most_of_its_acceptance_in_the_last_days() {
        let w = world::build(5, 1.0);
        let idx = w.offers.iter().position(|o| o.offer.key == world::ANOMALY_OFFER).unwrap();
        let rate = |days: std::ops::Range<i64>| {
            let (mut imp, mut pos) = (0.0, 0.0);
            for i in days {
                for x in generate::day(&w, 5, 1.0, day_of(NOW), i, i64::MAX).interactions {
                    if x.offer == idx {
                        match x.outcome {
                            super::super::rollups::Outcome::Impression => imp += 1.0,
                            super::super::rollups::Outcome::Click | super::super::rollups::Outcome::Conversion => {
                                pos += 1.0
                            }
                            _ => {}
                        }
                    }
                }
            }
            pos / imp
        };
        let before = rate(100..114);
        let after = rate(116..120);
        assert!(after < before * 0.5, "acceptance {before:.4} -> {after:.4}");
    }
}
