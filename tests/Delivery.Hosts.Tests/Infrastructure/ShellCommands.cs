using System.Text;

namespace Delivery.Hosts.Tests.Infrastructure;

/// <summary>
/// The literal command names in a bash text, and the functions it defines: enough of bash's grammar for the host
/// scripts (quotes, $(…), &lt;(…), $((…)), ${…}, here-documents, comments, if/while/for/case, trap and timed). Words
/// that start with a quote or a $ are not names, so "$docker" is never taken for a command.
/// </summary>
public sealed class ShellCommands
{
    public List<string> Commands { get; } = [];
    public List<string> Functions { get; } = [];

    readonly string _s;
    int _i;
    readonly Queue<(string Delimiter, bool Tabs)> _heredocs = new();

    ShellCommands(string text) => _s = text;

    public static ShellCommands Of(string text)
    {
        var scan = new ShellCommands(text);
        scan.List(end: null);
        return scan;
    }

    char At(int k) => k < _s.Length ? _s[k] : '\0';

    enum Expect { Command, Argument, Pattern, ForWords }

    /// <summary>Scans commands until <paramref name="end"/> (')' of $( or &lt;(, or the end of the text).</summary>
    void List(char? end)
    {
        var expect = Expect.Command;
        var awaitingIn = false;
        var depth = 0;   // '(' subshells opened inside this list
        while (_i < _s.Length)
        {
            var c = _s[_i];
            if (c == '\\' && At(_i + 1) == '\n') { _i += 2; continue; }
            if (c is ' ' or '\t') { _i++; continue; }
            if (c == '\n')
            {
                _i++;
                SkipHeredocs();
                if (expect != Expect.Pattern) expect = Expect.Command;
                continue;
            }
            if (c == '#') { while (_i < _s.Length && _s[_i] != '\n') _i++; continue; }
            if (c == ')')
            {
                if (expect == Expect.Pattern) { _i++; expect = Expect.Command; continue; }
                if (depth > 0) { depth--; _i++; expect = Expect.Argument; continue; }
                if (end == ')') { _i++; return; }
                _i++;
                continue;
            }
            if (c == '(' && At(_i + 1) == '(' ) { SkipArithmetic(_i + 2); expect = Expect.Argument; continue; }
            if (c == '(')
            {
                _i++;
                depth++;
                expect = Expect.Command;
                continue;
            }
            if (c == '|' && expect == Expect.Pattern) { _i++; continue; }
            if (c is ';' or '&' or '|')
            {
                var op = c.ToString();
                _i++;
                if (At(_i) == c) { op += c; _i++; }
                if (op == ";;") { expect = Expect.Pattern; continue; }
                if (c == '&' && At(_i) == '>') continue;
                expect = Expect.Command;
                continue;
            }
            if (c is '<' or '>')
            {
                if (c == '<' && At(_i + 1) == '(') { _i += 2; List(')'); continue; }
                if (c == '<' && At(_i + 1) == '<' && At(_i + 2) == '<') { _i += 3; Word(); continue; }
                if (c == '<' && At(_i + 1) == '<')
                {
                    _i += 2;
                    var tabs = At(_i) == '-';
                    if (tabs) _i++;
                    while (At(_i) == ' ') _i++;
                    _heredocs.Enqueue((Unquote(Word()), tabs));
                    continue;
                }
                while (At(_i) is '<' or '>' or '&') _i++;
                while (At(_i) == ' ') _i++;
                if (At(_i) != '(') Word();   // the file or descriptor, never a command
                continue;
            }

            var word = Word();
            if (word.Length == 0) { _i++; continue; }
            var plain = IsName(word);
            if (expect == Expect.Pattern)
            {
                if (word == "esac") { expect = Expect.Argument; continue; }
                // The pattern runs to its ')', which Word stops at.
                continue;
            }
            if (expect == Expect.ForWords)
            {
                if (word == "do") expect = Expect.Command;
                continue;
            }
            if (awaitingIn)
            {
                if (word == "in") { awaitingIn = false; expect = Expect.Pattern; }
                continue;
            }
            if (expect == Expect.Command)
            {
                if (IsAssignment(word)) continue;
                switch (word)
                {
                    case "if" or "then" or "else" or "elif" or "do" or "while" or "until" or "!" or "{" or "}" or "fi" or "done" or "time":
                        if (word is "fi" or "done" or "}") expect = Expect.Argument;
                        continue;
                    case "for":
                        expect = Expect.ForWords;
                        continue;
                    case "case":
                        awaitingIn = true;
                        continue;
                }
                if (plain && At(_i) == '(' && At(_i + 1) == ')')
                {
                    Functions.Add(word);
                    _i += 2;
                    expect = Expect.Command;
                    continue;
                }
                if (plain) Commands.Add(word);
                if (word == "timed") { SkipBlanks(); Word(); expect = Expect.Command; continue; }
                if (word == "trap") { Trap(); expect = Expect.Argument; continue; }
                expect = Expect.Argument;
            }
        }
    }

    void SkipBlanks() { while (At(_i) is ' ' or '\t') _i++; }

    /// <summary>trap ACTION SIGNAL…: the action is a function name or a command string.</summary>
    void Trap()
    {
        SkipBlanks();
        if (At(_i) == '\'')
        {
            var from = _i + 1;
            var to = _s.IndexOf('\'', from);
            var inner = Of(_s[from..to]);
            Commands.AddRange(inner.Commands);
            _i = to + 1;
            return;
        }
        var word = Word();
        if (IsName(word)) Commands.Add(word);
    }

    /// <summary>One word: quotes and expansions inside it are skipped, command substitutions in it are scanned.</summary>
    string Word()
    {
        var text = new StringBuilder();
        while (_i < _s.Length)
        {
            var c = _s[_i];
            if (c is ' ' or '\t' or '\n' or ';' or '&' or '|' or '<' or '>' or ')') break;
            if (c == '(' && text.Length > 0 && !text.ToString().EndsWith('=')) break;
            if (c == '(' && text.Length == 0) break;
            if (c == '\\') { text.Append(c).Append(At(_i + 1)); _i += 2; continue; }
            if (c == '\'') { var to = _s.IndexOf('\'', _i + 1); text.Append(_s, _i, to - _i + 1); _i = to + 1; continue; }
            if (c == '"') { text.Append('"'); _i++; DoubleQuoted(); text.Append('"'); continue; }
            if (c == '$') { text.Append('$'); Dollar(); continue; }
            if (c == '(' ) { _i++; List(')'); text.Append("()"); continue; }   // array assignment a=(…)
            text.Append(c);
            _i++;
        }
        return text.ToString();
    }

    void DoubleQuoted()
    {
        while (_i < _s.Length && _s[_i] != '"')
        {
            if (_s[_i] == '\\') { _i += 2; continue; }
            if (_s[_i] == '$') { Dollar(); continue; }
            _i++;
        }
        _i++;
    }

    /// <summary>At a '$': $((…)) is skipped, $(…) scanned as commands, ${…} skipped with its nesting.</summary>
    void Dollar()
    {
        _i++;
        if (At(_i) == '(' && At(_i + 1) == '(') { SkipArithmetic(_i + 2); return; }
        if (At(_i) == '(') { _i++; List(')'); return; }
        if (At(_i) == '{')
        {
            var braces = 0;
            while (_i < _s.Length)
            {
                var c = _s[_i];
                if (c == '\\') { _i += 2; continue; }
                if (c == '{') braces++;
                else if (c == '}' && --braces == 0) { _i++; return; }
                else if (c == '$' && At(_i + 1) == '(' && At(_i + 2) != '(') { _i += 2; List(')'); continue; }
                else if (c == '"') { _i++; DoubleQuoted(); continue; }
                _i++;
            }
        }
    }

    void SkipArithmetic(int from)
    {
        var parens = 2;
        _i = from;
        while (_i < _s.Length && parens > 0)
        {
            if (_s[_i] == '(') parens++;
            else if (_s[_i] == ')') parens--;
            _i++;
        }
    }

    void SkipHeredocs()
    {
        while (_heredocs.TryDequeue(out var doc))
            while (_i < _s.Length)
            {
                var lineEnd = _s.IndexOf('\n', _i);
                if (lineEnd < 0) lineEnd = _s.Length;
                var line = _s[_i..lineEnd];
                _i = Math.Min(lineEnd + 1, _s.Length);
                if ((doc.Tabs ? line.TrimStart('\t') : line) == doc.Delimiter) break;
            }
    }

    static string Unquote(string word) => word.Replace("'", "").Replace("\"", "");

    static bool IsName(string word) => word.Length > 0 && (char.IsLetter(word[0]) || word[0] is '_' or ':' or '[' or '.')
        && word.All(ch => char.IsLetterOrDigit(ch) || ch is '_' or '-' or ':' or '[' or '.');

    static bool IsAssignment(string word)
    {
        var eq = word.IndexOf('=');
        return eq > 0 && word[..eq].TrimEnd('+').All(ch => char.IsLetterOrDigit(ch) || ch == '_');
    }
}
