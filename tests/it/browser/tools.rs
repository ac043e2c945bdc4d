//! The programs the browser tests use: found on `PATH` (or named by an environment variable), and
//! the npm packages (axe-core, vnu-jar) installed once into a cache directory outside the clone.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// axe-core, pinned so that a new release with new rules changes nothing until we choose it.
pub const AXE_CORE: (&str, &str) = ("axe-core", "4.14.1");

/// The Nu Html Checker, pinned for the same reason.
pub const VNU_JAR: (&str, &str) = ("vnu-jar", "26.9.27");

/// The program named by the environment variable `env`, or the first of `names` found on `PATH`;
/// `None` when that is not an executable file.
pub fn program(env: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(env).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path)).filter(|p| is_executable(p));
    }
    let dirs: Vec<PathBuf> = std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
    names.iter().flat_map(|name| dirs.iter().map(move |dir| dir.join(name))).find(|path| is_executable(path))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Where npm packages are kept between runs: `NDP_TOOLS_CACHE`, else `${XDG_CACHE_HOME:-$HOME/.cache}/ndp/npm`.
fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("NDP_TOOLS_CACHE").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("ndp").join("npm")
}

/// A file of an npm package, installing the package into the cache first if it is not there.
/// Each version gets its own directory, filled in a temporary one and renamed into place, so
/// concurrent test processes never see half an install.
pub fn npm_file((package, version): (&str, &str), file: &str) -> PathBuf {
    static INSTALLING: Mutex<()> = Mutex::new(());
    let _guard = INSTALLING.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let root = cache_dir();
    let dir = root.join(format!("{package}@{version}"));
    let wanted = dir.join("node_modules").join(package).join(file);
    if wanted.is_file() {
        return wanted;
    }
    let npm = program("NDP_NPM", &["npm"])
        .unwrap_or_else(|| panic!("the browser tests install {package} with npm, which is missing (Debian: apt-get install npm)"));
    std::fs::create_dir_all(&root).unwrap_or_else(|e| panic!("create {}: {e}", root.display()));
    // No install scripts: vnu-jar's would try to download a Java runtime.
    let staging = tempfile::Builder::new().prefix(".installing-").tempdir_in(&root).expect("staging dir");
    let output = Command::new(npm)
        .args(["install", "--no-save", "--no-package-lock", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error", "--prefix"])
        .arg(staging.path())
        .arg(format!("{package}@{version}"))
        .output()
        .unwrap_or_else(|e| panic!("run npm: {e}"));
    assert!(
        output.status.success(),
        "npm install {package}@{version} failed (the npm registry must be reachable):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let staged = staging.keep();
    if std::fs::rename(&staged, &dir).is_err() {
        // Another process finished first; its copy is as good as ours.
        let _ = std::fs::remove_dir_all(&staged);
    }
    assert!(wanted.is_file(), "{package}@{version} has no {file}");
    wanted
}

/// The `java` program, for the Nu Html Checker.
pub fn java() -> PathBuf {
    program("NDP_JAVA", &["java"]).unwrap_or_else(|| {
        panic!("HTML validation runs the Nu Html Checker on Java, which is missing (Debian: apt-get install default-jre-headless)")
    })
}
