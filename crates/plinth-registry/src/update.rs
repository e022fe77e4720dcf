//! Updating installed plugins from an index: find a newer compatible version, download it
//! (digest-checked), verify its signature, install it atomically, and swap it into a running
//! [`Manager`] (in-flight calls finish on the old version).
//!
//! Each step can refuse the update; every refusal happens before the plugin directory or the
//! lockfile is touched, and the manager keeps serving what it served. Design record 0023.

use plinth_manager::Manager;
use plinth_manifest::PluginId;
use plinth_package::{Home, InstallOptions, Installed, PackageError};
use semver::{Comparator, Op, Version, VersionReq};

use crate::download::{LoadedIndex, RegistryClient};
use crate::index::{IndexVersion, PreReleases};
use crate::install::{InstallError, install_fetched};
use crate::progress::Progress;

/// What an update did for one plugin.
#[derive(Debug)]
pub enum UpdateOutcome {
    /// A newer version is installed (and, with a manager, serving when `swapped`).
    Updated {
        /// The version installed before.
        from: Version,
        /// What the install did.
        installed: Box<Installed>,
        /// Whether the manager now serves the new version (false without a manager, or when
        /// the plugin is not enabled in it, or when the new version failed to load: then the
        /// old one keeps serving and the manager reports the error).
        swapped: bool,
    },
    /// The index has no newer version compatible with the installed one.
    UpToDate {
        /// The installed version.
        version: Version,
    },
    /// The index does not list this plugin (it was installed from elsewhere).
    NotListed {
        /// The installed version.
        version: Version,
    },
    /// The update was refused; nothing changed.
    Failed(InstallError),
}

/// One plugin's update.
#[derive(Debug)]
pub struct UpdateReport {
    /// The plugin.
    pub id: PluginId,
    /// What happened.
    pub outcome: UpdateOutcome,
}

/// Updates the plugins of one home from one index.
///
/// ```no_run
/// # async fn demo(manager: &plinth_manager::Manager) -> Result<(), Box<dyn std::error::Error>> {
/// use plinth_package::{Home, InstallOptions, SignaturePolicy};
/// use plinth_registry::{IndexLocation, RegistryClient, SizeCaps, Silent, Transport, Updater};
///
/// let client = RegistryClient::new(SizeCaps::default(), Transport::Auto)?;
/// let index = client
///     .load_index(&IndexLocation::parse("https://plugins.example.org/index.json")?)
///     .await?;
/// let home = Home::new("/var/lib/app/plinth");
/// let options = InstallOptions::new(SignaturePolicy::Require);
/// let updater = Updater::new(&client, &home, &index, options).manager(manager);
/// for report in updater.update_all(&Silent).await? {
///     println!("{}: {:?}", report.id, report.outcome);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Updater<'a> {
    client: &'a RegistryClient,
    home: &'a Home,
    index: &'a LoadedIndex,
    options: InstallOptions,
    pre_releases: PreReleases,
    manager: Option<&'a Manager>,
}

impl<'a> Updater<'a> {
    /// An updater installing with `options` (its policy decides about unsigned packages).
    pub fn new(
        client: &'a RegistryClient,
        home: &'a Home,
        index: &'a LoadedIndex,
        options: InstallOptions,
    ) -> Updater<'a> {
        Updater {
            client,
            home,
            index,
            options,
            pre_releases: PreReleases::Exclude,
            manager: None,
        }
    }

    /// Whether a pre-release may be picked (default: only when one is installed).
    #[must_use]
    pub fn pre_releases(mut self, pre_releases: PreReleases) -> Self {
        self.pre_releases = pre_releases;
        self
    }

    /// Swaps updated plugins into this manager. Its reload blocks while the new version
    /// loads: from async code, run the update inside `spawn_blocking` or a blocking runtime.
    #[must_use]
    pub fn manager(mut self, manager: &'a Manager) -> Self {
        self.manager = Some(manager);
        self
    }

    /// The newest version of `id` in the index that is newer than `installed` and
    /// semver-compatible with it (`^installed`: same major, or same minor for 0.x).
    pub fn candidate(&self, id: &PluginId, installed: &Version) -> Option<&'a IndexVersion> {
        let plugin = self.index.index().plugin(id.as_str())?;
        plugin
            .versions
            .iter()
            .filter(|v| v.version > *installed)
            .filter(|v| compatible(installed, &v.version, self.pre_releases))
            .max_by(|a, b| a.version.cmp(&b.version))
    }

    /// Updates every plugin of the home's lockfile, in id order. Fails only when the
    /// lockfile cannot be read; each plugin's own failure is in its report.
    pub async fn update_all(
        &self,
        progress: &dyn Progress,
    ) -> Result<Vec<UpdateReport>, PackageError> {
        let ids: Vec<PluginId> = self
            .home
            .lockfile()?
            .entries()
            .map(|(id, _)| id.clone())
            .collect();
        let mut reports = Vec::with_capacity(ids.len());
        for id in ids {
            reports.push(self.update(&id, progress).await);
        }
        Ok(reports)
    }

    /// Updates one installed plugin.
    pub async fn update(&self, id: &PluginId, progress: &dyn Progress) -> UpdateReport {
        let outcome = match self.try_update(id, progress).await {
            Ok(outcome) => outcome,
            Err(error) => UpdateOutcome::Failed(error),
        };
        UpdateReport {
            id: id.clone(),
            outcome,
        }
    }

    async fn try_update(
        &self,
        id: &PluginId,
        progress: &dyn Progress,
    ) -> Result<UpdateOutcome, InstallError> {
        let lock = self.home.lockfile()?;
        let Some(entry) = lock.get(id) else {
            return Err(PackageError::Missing {
                what: "installed plugin",
                path: format!("{}: {id}", self.home.lockfile_path().display()),
            }
            .into());
        };
        let from = entry.version.clone();
        if self.index.index().plugin(id.as_str()).is_none() {
            return Ok(UpdateOutcome::NotListed { version: from });
        }
        let Some(version) = self.candidate(id, &from) else {
            return Ok(UpdateOutcome::UpToDate { version: from });
        };
        let fetched = self
            .client
            .fetch_version(self.index, id.as_str(), version, progress)
            .await?;
        let installed = install_fetched(self.home, &fetched, &self.options)?;
        let swapped = self
            .manager
            .is_some_and(|manager| manager.reload(id.as_str()));
        Ok(UpdateOutcome::Updated {
            from,
            installed: Box::new(installed),
            swapped,
        })
    }
}

/// Whether `candidate` is compatible with `installed` (`^installed`). A pre-release is picked
/// only when asked for, or when the installed version is itself a pre-release of the same
/// release line (semver's own rule for `^1.0.0-beta`).
fn compatible(installed: &Version, candidate: &Version, pre_releases: PreReleases) -> bool {
    let request = VersionReq {
        comparators: vec![Comparator {
            op: Op::Caret,
            major: installed.major,
            minor: Some(installed.minor),
            patch: Some(installed.patch),
            pre: installed.pre.clone(),
        }],
    };
    if request.matches(candidate) {
        return true;
    }
    if pre_releases == PreReleases::Include && !candidate.pre.is_empty() {
        let mut release = candidate.clone();
        release.pre = semver::Prerelease::EMPTY;
        return request.matches(&release);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compatibility_table() {
        let cases = [
            ("1.2.0", "1.3.0", PreReleases::Exclude, true),
            ("1.2.0", "2.0.0", PreReleases::Exclude, false),
            ("0.1.0", "0.1.5", PreReleases::Exclude, true),
            ("0.1.0", "0.2.0", PreReleases::Exclude, false),
            ("1.2.0", "1.3.0-beta.1", PreReleases::Exclude, false),
            ("1.2.0", "1.3.0-beta.1", PreReleases::Include, true),
            ("1.2.0", "2.0.0-beta.1", PreReleases::Include, false),
            ("1.0.0-beta.1", "1.0.0-beta.2", PreReleases::Exclude, true),
            ("1.0.0-beta.1", "1.0.0", PreReleases::Exclude, true),
        ];
        for (installed, candidate, pre, expected) in cases {
            let got = compatible(
                &installed.parse().unwrap(),
                &candidate.parse().unwrap(),
                pre,
            );
            assert_eq!(got, expected, "{installed} -> {candidate} ({pre:?})");
        }
    }
}
