//! A line that reaches the terminal even while libtest captures the output of
//! passing tests (it captures `print!`/`eprint!`, not writes to the handle), so a
//! skipped test is never silent.

use std::io::Write;

pub fn skipped(test: &str, why: &str) {
    let _ = writeln!(
        std::io::stderr(),
        "\n!!!!!!!! SKIPPED {test}: {why} !!!!!!!!"
    );
}
