//! Commands that run another command: `sudo apt-get install x` installs
//! with apt-get, `env DEBIAN_FRONTEND=noninteractive apt-get ...` too. The
//! command model names the command that does the work and lists the
//! wrappers in front of it, so a query about apt-get sees every apt-get
//! and a query about sudo still sees the sudo.

/// What a run of wrapper words in front of a command hides.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Unwrapped {
    /// Index (into the words) of the wrapped command's name.
    pub(super) command: usize,
    /// The wrappers' program names, outermost first, without directories.
    pub(super) wrappers: Vec<String>,
    /// Indexes of `NAME=value` words given to `env`.
    pub(super) assignments: Vec<usize>,
}

/// The command behind the wrappers at the start of `words` (`words[0]` is
/// the command's name); `None` when `words[0]` is no wrapper or no command
/// follows its options (`sudo -i`, `env` alone).
pub(super) fn unwrap(words: &[&str]) -> Option<Unwrapped> {
    let mut at = 0usize;
    let mut wrappers = Vec::new();
    let mut assignments = Vec::new();
    // Bounded by the words: every round consumes at least the wrapper name.
    while let Some(name) = words.get(at).map(|w| base_name(w)) {
        let Some(options) = options_of(name) else {
            break;
        };
        let mut i = at + 1;
        while let Some(word) = words.get(i) {
            if *word == "--" {
                i += 1;
                break;
            }
            if name == "env" && is_assignment(word) {
                assignments.push(i);
                i += 1;
                continue;
            }
            // `env -` (an empty environment) is an option; a lone `-`
            // elsewhere is an operand.
            if !word.starts_with('-') || (*word == "-" && name != "env") {
                break;
            }
            i += 1 + usize::from(takes_argument(word, options));
        }
        if i >= words.len() {
            return None;
        }
        wrappers.push(name.to_string());
        at = i;
    }
    (at > 0).then_some(Unwrapped {
        command: at,
        wrappers,
        assignments,
    })
}

/// A wrapper's options that take a separate argument: short letters, and
/// long names (without `--`).
struct Options {
    short: &'static str,
    long: &'static [&'static str],
}

fn options_of(name: &str) -> Option<&'static Options> {
    const SUDO: Options = Options {
        short: "ugChprtUDRT",
        long: &[
            "user",
            "group",
            "close-from",
            "host",
            "prompt",
            "role",
            "type",
            "other-user",
            "chdir",
            "chroot",
            "command-timeout",
        ],
    };
    const DOAS: Options = Options {
        short: "uC",
        long: &[],
    };
    const ENV: Options = Options {
        short: "uCS",
        long: &["unset", "chdir", "split-string"],
    };
    const NICE: Options = Options {
        short: "n",
        long: &["adjustment"],
    };
    const PLAIN: Options = Options {
        short: "",
        long: &[],
    };
    match name {
        "sudo" => Some(&SUDO),
        "doas" => Some(&DOAS),
        "env" => Some(&ENV),
        "nice" => Some(&NICE),
        "nohup" | "time" => Some(&PLAIN),
        _ => None,
    }
}

/// Whether an option word is followed by its argument as the next word.
fn takes_argument(word: &str, options: &Options) -> bool {
    if let Some(long) = word.strip_prefix("--") {
        return !long.contains('=') && options.long.contains(&long);
    }
    // A cluster such as `-Eu`: the first letter that takes an argument
    // takes the rest of the word, or the next word when it ends the cluster.
    let letters = word.trim_start_matches('-');
    match letters
        .char_indices()
        .find(|(_, c)| options.short.contains(*c))
    {
        Some((k, c)) => k + c.len_utf8() == letters.len(),
        None => false,
    }
}

fn is_assignment(word: &str) -> bool {
    let mut chars = word.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && word
            .split_once('=')
            .is_some_and(|(k, _)| k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(words: &[&str]) -> Option<(String, Vec<String>)> {
        unwrap(words).map(|u| (words[u.command].to_string(), u.wrappers))
    }

    #[test]
    fn wrappers_and_their_options() {
        assert_eq!(
            command(&["sudo", "apt-get", "install", "-y", "x"]),
            Some(("apt-get".into(), vec!["sudo".into()]))
        );
        assert_eq!(
            command(&["/usr/bin/sudo", "-E", "-u", "root", "--", "apk", "add"]),
            Some(("apk".into(), vec!["sudo".into()]))
        );
        assert_eq!(
            command(&["sudo", "-Eu", "app", "yum", "install"]),
            Some(("yum".into(), vec!["sudo".into()]))
        );
        assert_eq!(
            command(&["sudo", "-uapp", "--user=x", "pip", "install"]),
            Some(("pip".into(), vec!["sudo".into()]))
        );
        assert_eq!(
            command(&["env", "-i", "A=1", "sudo", "-n", "apt", "update"]),
            Some(("apt".into(), vec!["env".into(), "sudo".into()]))
        );
        assert_eq!(
            command(&["nice", "-n", "5", "make"]),
            Some(("make".into(), vec!["nice".into()]))
        );
        assert_eq!(command(&["sudo", "-i"]), None);
        assert_eq!(command(&["env"]), None);
        assert_eq!(command(&["apt-get", "sudo"]), None);
        let u = unwrap(&[
            "env",
            "DEBIAN_FRONTEND=noninteractive",
            "apt-get",
            "install",
        ]);
        assert_eq!(u.map(|u| u.assignments), Some(vec![1]));
    }
}
