//! `plinth:host/fs`.

use plinth_manifest::Grant;

use crate::bindings::fs;
use crate::host_api::grant_hint;
use crate::state::StoreState;

impl fs::Host for StoreState {
    fn list_dir(&mut self, dir: String, _path: String) -> Result<Vec<fs::DirEntry>, fs::FsError> {
        self.check_fs(Grant::FsRead(dir))?;
        Err(fs::FsError::Io(super::unavailable("fs")))
    }

    fn read_metadata(&mut self, dir: String, _path: String) -> Result<fs::Metadata, fs::FsError> {
        self.check_fs(Grant::FsRead(dir))?;
        Err(fs::FsError::Io(super::unavailable("fs")))
    }

    fn read_file(&mut self, dir: String, _path: String) -> Result<Vec<u8>, fs::FsError> {
        self.check_fs(Grant::FsRead(dir))?;
        Err(fs::FsError::Io(super::unavailable("fs")))
    }

    fn write_file(
        &mut self,
        dir: String,
        _path: String,
        _contents: Vec<u8>,
    ) -> Result<(), fs::FsError> {
        self.check_fs(Grant::FsWrite(dir))?;
        Err(fs::FsError::Io(super::unavailable("fs")))
    }
}

impl StoreState {
    fn check_fs(&mut self, grant: Grant) -> Result<(), fs::FsError> {
        if self.plugin.grants.allows(&grant) {
            return Ok(());
        }
        let hint = grant_hint(&self.plugin.id, &grant);
        self.note_missing_grant(grant);
        Err(fs::FsError::MissingGrant(hint))
    }
}
