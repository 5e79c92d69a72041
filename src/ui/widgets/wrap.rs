//! Word wrapping for prose inside scrolled text screens (a finding's cause, notes): the
//! screens count their own lines for scrolling, so wrapping happens before rendering rather
//! than in ratatui's `Paragraph`. Words longer than a line are cut, never lost.

/// `text` split into lines of at most `width` characters, breaking at spaces.
pub fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut len = 0;
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        while word.len() > width {
            if len > 0 {
                lines.push(std::mem::take(&mut line));
                len = 0;
            }
            lines.push(word.drain(..width).collect());
        }
        if len > 0 && len + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
            len = 0;
        }
        if len > 0 {
            line.push(' ');
            len += 1;
        }
        len += word.len();
        line.extend(word);
    }
    if len > 0 || lines.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breaks_at_spaces_and_cuts_long_words() {
        assert_eq!(
            wrap_words("the route timeout fired on 7 calls", 12),
            vec!["the route", "timeout", "fired on 7", "calls"]
        );
        assert_eq!(
            wrap_words("a abcdefghij b", 4),
            vec!["a", "abcd", "efgh", "ij b"]
        );
        assert_eq!(wrap_words("", 5), vec![""]);
    }
}
