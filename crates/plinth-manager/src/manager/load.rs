//! Loading one entry's plugin off the call path: grants, settings, the id check, and a
//! long-lived instance started with `on-load`.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::Ordering;

use plinth_host::{LoadOptions, Plugin, PluginInstance};
use plinth_manifest::diagnostic::{Code, Diagnostic, ToDiagnostic};
use plinth_manifest::grant::Grant;
use plinth_manifest::{Kind, Manifest};
use serde_json::Value;

use super::{Active, Manager, Slot, fingerprint};
use crate::signatures::Vouched;
use crate::state::{InstanceMode, PluginEntry};

/// Loads tried while the files keep changing under them.
const LOAD_ATTEMPTS: usize = 5;

/// The loaded version must be what the signature check vouched for: the same component
/// bytes and, with a manifest, the same id and version (a file replaced between the check
/// and the load is refused, not run unchecked).
fn check_vouched(plugin: &Plugin, vouched: &Vouched) -> Result<(), Diagnostic> {
    let subject = &vouched.subject;
    let same_identity = plugin.manifest().is_none_or(|m| {
        m.plugin.id.as_str() == subject.id.as_str() && m.plugin.version == subject.version
    });
    if vouched.covers(plugin.digest()) && same_identity {
        tracing::debug!(plugin = %plugin.id(), signer = ?vouched.signer, "signature verified");
        return Ok(());
    }
    Err(Diagnostic::new(
        Code::BadSignature,
        format!(
            "{}: the files changed after their signature was checked (checked {} {} {}, loaded {})",
            plugin.id(),
            subject.id,
            subject.version,
            subject.digest,
            plugin.digest()
        ),
    )
    .with_hint("replace a plugin folder by renaming a complete new folder over it, then reload"))
}

impl Manager {
    pub(super) fn prepare(&self, entry: &PluginEntry, slot: &Slot) -> Result<Active, Diagnostic> {
        let source = self.source_of(entry)?;
        let span = tracing::info_span!(
            "plugin.load",
            plugin = %entry.id,
            version = tracing::field::Empty,
            outcome = tracing::field::Empty,
            wasm_sha256 = tracing::field::Empty,
            sig_sha256 = tracing::field::Empty
        );
        let _entered = span.enter();
        let result = self.prepare_stable(entry, &source, slot);
        match &result {
            Ok(active) => {
                // The software bill of materials of every load: what ran, and what vouched.
                let wasm = active.plugin.digest().to_string();
                let sig = signature_digest(&source, &active.plugin);
                span.record("version", active.version.as_str());
                span.record("outcome", "ready");
                span.record("wasm_sha256", wasm.as_str());
                span.record("sig_sha256", sig.as_deref().unwrap_or("none"));
                tracing::info!(
                    plugin = %entry.id,
                    version = %active.version,
                    wasm_sha256 = %wasm,
                    sig_sha256 = sig.as_deref().unwrap_or("none"),
                    "plugin.load ready"
                );
            }
            Err(d) => {
                span.record("outcome", d.code.as_str());
                tracing::warn!(plugin = %entry.id, code = %d.code, "plugin.load failed: {}", d.message);
            }
        }
        result
    }

    /// Loads until the files did not change during the load: a load reads the manifest,
    /// the signature and the component one after another, so a replacement in between
    /// (a folder renamed over, files copied one by one) could mix two versions. The
    /// fingerprint before and after a load tells; a changed one loads again.
    fn prepare_stable(
        &self,
        entry: &PluginEntry,
        source: &Path,
        slot: &Slot,
    ) -> Result<Active, Diagnostic> {
        for _ in 0..LOAD_ATTEMPTS {
            let before = fingerprint(source);
            let result = self.prepare_from(entry, source, slot, before.clone());
            if fingerprint(source) == before {
                return result;
            }
            tracing::info!(plugin = %entry.id, "files changed during the load; loading again");
        }
        Err(Diagnostic::new(
            Code::MissingPackage,
            format!(
                "{}: the files at {} changed during each of {LOAD_ATTEMPTS} loads",
                entry.id,
                source.display()
            ),
        )
        .with_plugin(&entry.id)
        .with_hint("replace a plugin folder by renaming a complete new folder over it"))
    }

    fn prepare_from(
        &self,
        entry: &PluginEntry,
        source: &Path,
        slot: &Slot,
        fingerprint: String,
    ) -> Result<Active, Diagnostic> {
        // A plugin folder is read once and checked, and those bytes are loaded; a bare
        // component is checked, then loaded and compared with what the check covered.
        let (verified, vouched) = match &self.shared.signatures {
            Some(check) if source.is_dir() => (
                Some(
                    check
                        .verify_dir(source)
                        .map_err(|e| e.to_diagnostic().with_plugin(&entry.id))?,
                ),
                None,
            ),
            Some(check) => (
                None,
                check
                    .check_component(source)
                    .map_err(|e| e.to_diagnostic().with_plugin(&entry.id))?,
            ),
            None => (None, None),
        };
        let grants = entry
            .grants
            .iter()
            .map(|g| {
                g.parse::<Grant>()
                    .map_err(|e| e.to_diagnostic().with_plugin(&entry.id))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let seeds = self
            .seed_dirs(entry)
            .map_err(|d| d.with_plugin(&entry.id))?;
        let mut options = LoadOptions::default()
            .with_grants(grants)
            .with_settings(Value::Object(entry.config.clone()));
        for (name, path) in &seeds.own {
            options = options.with_dir(name.clone(), path.clone());
        }
        if let Some(tenant) = &self.shared.tenant {
            options = options.with_tenant(tenant.clone());
        }
        options = options.with_args(self.shared.program_args.iter().cloned());
        let host = &self.shared.host;
        let loaded = match &verified {
            Some(verified) => {
                if let Some(signer) = verified.verification().signer() {
                    tracing::debug!(plugin = %entry.id, signer, "signature verified");
                }
                host.load_manifest_bytes(verified.manifest().clone(), verified.component(), options)
            }
            // A flat plugin's component is loaded with its manifest beside it.
            None => match plinth_manifest::manifest_beside(source) {
                Some(manifest) => {
                    let parsed = Manifest::load_flat(&manifest)
                        .map_err(|e| e.to_diagnostic().with_plugin(&entry.id))?;
                    let bytes = std::fs::read(source).map_err(|e| {
                        Diagnostic::new(Code::MissingPackage, format!("{}: {e}", source.display()))
                            .with_plugin(&entry.id)
                    })?;
                    host.load_manifest_bytes(parsed.manifest, &bytes, options)
                }
                None => host.load_with(source, options),
            },
        };
        let plugin = loaded.map_err(|e| e.to_diagnostic().with_plugin(&entry.id))?;
        self.shared.loads.fetch_add(1, Ordering::Relaxed);
        if plugin.id() != entry.id && plugin.manifest().is_some() {
            return Err(Diagnostic::new(
                Code::InvalidManifest,
                format!(
                    "{}: the plugin at {} has the id `{}`",
                    entry.id,
                    source.display(),
                    plugin.id()
                ),
            )
            .with_plugin(&entry.id));
        }
        if let Some(vouched) = &vouched {
            check_vouched(&plugin, vouched).map_err(|d| d.with_plugin(&entry.id))?;
        }
        // A bare component has no manifest; a signed one has the version of its `x.toml`.
        let version = match (plugin.manifest(), &vouched) {
            (Some(m), _) => m.plugin.version.to_string(),
            (None, Some(v)) => v.subject.version.to_string(),
            (None, None) => "0.0.0".into(),
        };
        self.watch_seeds(&plugin, &seeds)
            .map_err(|d| d.with_plugin(&entry.id))?;
        let relay = self.relay_inbox(&entry.id, &plugin);
        let instance = match entry.instance {
            InstanceMode::PerCall => None,
            InstanceMode::LongLived => Some(Mutex::new(Some(
                self.start_instance(&plugin)
                    .map_err(|d| d.with_plugin(&entry.id))?,
            ))),
        };
        let service = if plugin.provides(Kind::Service) {
            Some(
                self.start_service(&plugin, &version)
                    .map_err(|d| d.with_plugin(&entry.id))?,
            )
        } else {
            None
        };
        Ok(Active {
            plugin,
            version,
            fingerprint,
            instance,
            service,
            _relay: relay,
            retired: slot.retired.clone(),
            unloads: self.shared.unloads.clone(),
        })
    }

    /// Instantiates and calls `on-load(settings)`, with the settings in force, when the
    /// plugin exports it.
    pub(super) fn start_instance(&self, plugin: &Plugin) -> Result<PluginInstance, Diagnostic> {
        let settings = plugin.settings();
        let mut instance = plugin.instantiate().map_err(|e| e.to_diagnostic())?;
        self.shared.instantiations.fetch_add(1, Ordering::Relaxed);
        if plugin.exports().resolve("on-load").is_ok() {
            let result = instance
                .call_json("on-load", &[Value::String(settings.to_string())])
                .map_err(|e| {
                    if e.is_guest_failure() {
                        on_load_panicked(plugin, &e);
                    }
                    e.to_diagnostic()
                })?;
            if let Some(err) = result.get("err") {
                return Err(Diagnostic::new(
                    Code::Trap,
                    format!(
                        "{}: on-load refused the settings: {}",
                        plugin.id(),
                        err.as_str().unwrap_or_default()
                    ),
                )
                .with_hint("fix the plugin's settings (`config` in the state file)"));
            }
        }
        Ok(instance)
    }
}

/// `plugin.panic` for a guest failure in `on-load`: the instance never starts, so the
/// load (or the restart after a trap) fails; `outcome` is `load-failed`.
fn on_load_panicked(plugin: &Plugin, error: &plinth_host::CallError) {
    let version = plugin
        .manifest()
        .map_or_else(|| "0.0.0".into(), |m| m.plugin.version.to_string());
    super::calls::traced_panic(plugin.id(), &version, error, || "load-failed");
}

/// The digest of the signature file that vouches for the plugin at `source`, if there is
/// one: an installed folder's `package.sig`, else the component's `x.sig`.
fn signature_digest(source: &Path, plugin: &Plugin) -> Option<String> {
    let candidates = [
        source
            .is_dir()
            .then(|| source.join(plinth_package::INSTALLED_SIGNATURE)),
        plugin
            .manifest()
            .and_then(Manifest::component_path)
            .or_else(|| source.is_file().then(|| source.to_path_buf()))
            .map(|component| plinth_package::component_signature_path(&component)),
    ];
    candidates.into_iter().flatten().find_map(|path| {
        let bytes = plinth_manifest::plugin_file::read(
            &path,
            plinth_manifest::plugin_file::MANIFEST_MAX_BYTES,
        )
        .ok()?;
        Some(plinth_manifest::Digest::of(&bytes).to_string())
    })
}
