#!/usr/bin/env python3
"""File-level import graph of a Rust crate's src/: cycles, two-way imports, large files, pub items.

An edge A -> B means code in file A names an item defined in file B (through `use` or a
`crate::`/`super::`/`self::` path). A `pub use` in a mod.rs/lib.rs is a re-export (a name,
not a dependency): it adds no edge, and a path through it leads to the file defining the item.
Code after the first `#[cfg(test)]` of a file, and files named tests.rs, are left out.
Usage: modgraph.py [SRC_DIR] [--max-lines N] [--check]   (--check: exit 1 on any cycle or file over N lines)
"""
import os, re, sys
args = [a for a in sys.argv[1:] if not a.startswith('--')]
root = args[0] if args else 'src'
maxl = 400
if '--max-lines' in sys.argv: maxl = int(sys.argv[sys.argv.index('--max-lines') + 1]); args = [a for a in args if a != str(maxl)]
mods, tests = {}, set()
for d, _, fs in os.walk(root):
    for f in fs:
        if not f.endswith('.rs'): continue
        p = os.path.join(d, f); rel = os.path.relpath(p, root)[:-3].split('/')
        if rel[-1] == 'mod': rel = rel[:-1]
        if rel in (['lib'], ['main']): rel = []
        if rel and rel[-1] == 'tests' or f.endswith('_tests.rs'): tests.add(p)
        mods[p] = tuple(rel)
bymod = {}
for k, v in mods.items():
    if k.endswith('main.rs'): continue
    bymod[v] = k
strip = re.compile(r'//[^\n]*|"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])\'')
def code_of(p):
    c = open(p).read().split('#[cfg(test)]')[0]
    return strip.sub('""', c)
def is_dir_mod(p): return p.endswith('mod.rs') or p.endswith('lib.rs')
def split_tree(t):
    """'a::{b, c::{d, e}}' -> ['a::b', 'a::c::d', 'a::c::e'] (aliases kept as 'x as y')."""
    t = t.strip()
    i = t.find('{')
    if i < 0: return [t]
    pre, body = t[:i], t[i+1:t.rfind('}')]
    parts, depth, cur = [], 0, ''
    for ch in body:
        if ch == ',' and depth == 0: parts.append(cur); cur = ''; continue
        depth += (ch == '{') - (ch == '}'); cur += ch
    parts.append(cur)
    out = []
    for x in parts:
        if x.strip(): out += [pre + y for y in split_tree(x)]
    return out
def absolute(p, m, segs):
    """Module-relative segments -> absolute path, or None for external crates."""
    if not segs: return None
    h = segs[0]
    if h == 'crate': return segs[1:]
    if h == 'self': return list(m) + segs[1:]
    if h == 'super':
        base = list(m)
        while segs and segs[0] == 'super': base = base[:-1]; segs = segs[1:]
        return base + segs
    if tuple(list(m) + [h]) in bymod: return list(m) + segs
    return None
alias = {}   # absolute item path (tuple) -> absolute target path (list)
uses = {}
for p, m in mods.items():
    if p.endswith('main.rs') or p in tests: continue
    c = code_of(p)
    uses[p] = []
    for mt in re.finditer(r'(\bpub(?:\([^)]*\))?\s+)?\buse\s+([^;]+);', c):
        for leaf in split_tree(mt.group(2)):
            name = leaf.split(' as ')
            segs = [s.strip() for s in name[0].split('::') if s.strip()]
            a = absolute(p, m, segs)
            if a is None: continue
            if mt.group(1) and is_dir_mod(p):
                if segs[-1] == '*': continue
                alias[tuple(list(m) + [(name[1] if len(name) > 1 else segs[-1]).strip()])] = a
            else:
                uses[p].append(a)
    body = re.sub(r'\buse\s+[^;]+;', '', c)
    for mt in re.finditer(r'\b(crate|super|self)((?:::\w+)+)', body):
        uses[p].append(absolute(p, m, [mt.group(1)] + mt.group(2).split('::')[1:]))
def resolve(path, depth=0):
    for n in range(len(path), -1, -1):
        if tuple(path[:n]) in bymod:
            if n < len(path) and tuple(path[:n+1]) in alias and depth < 20:
                return resolve(alias[tuple(path[:n+1])], depth + 1)
            return bymod[tuple(path[:n])]
edges = {p: set() for p in uses}
for p, lst in uses.items():
    for a in lst:
        if a is None: continue
        t = resolve(a)
        if t and t != p and t not in tests: edges[p].add(t)
idx, low, st, on, out, c = {}, {}, [], set(), [], [0]
sys.setrecursionlimit(10000)
def sc(v):
    idx[v] = low[v] = c[0]; c[0] += 1; st.append(v); on.add(v)
    for w in edges.get(v, ()):
        if w not in idx: sc(w); low[v] = min(low[v], low[w])
        elif w in on: low[v] = min(low[v], idx[w])
    if low[v] == idx[v]:
        comp = []
        while True:
            w = st.pop(); on.discard(w); comp.append(w)
            if w == v: break
        if len(comp) > 1: out.append(sorted(comp))
for v in edges:
    if v not in idx: sc(v)
r = lambda x: x[len(root)+1:]
print(f"import cycles (strongly connected groups of files): {len(out)}")
for comp in out: print('  ' + ' '.join(r(x) for x in comp))
pairs = sorted({tuple(sorted((a, b))) for a in edges for b in edges[a] if a in edges.get(b, ())})
print(f"direct two-way imports: {len(pairs)}")
for a, b in pairs: print(f"  {r(a)} <-> {r(b)}")
sizes = sorted(((sum(1 for _ in open(p)), p) for p in mods if p not in tests), reverse=True)
big = [(n, p) for n, p in sizes if n > maxl]
print(f"non-test files over {maxl} lines: {len(big)}; largest: {sizes[0][0]} {r(sizes[0][1])}")
for n, p in big: print(f"  {n} {r(p)}")
pub = sum(len(re.findall(r'^\s*pub (?:fn|struct|enum|trait|const|static|type|mod|use|async fn)\b', open(p).read(), re.M)) for p in mods)
print("pub items (pub, not pub(crate)):", pub)
if '--modules' in sys.argv:
    top = lambda f: (mods[f][0] if mods[f] else 'lib')
    medges = {}
    for a in edges:
        for b in edges[a]:
            if top(a) != top(b): medges.setdefault(top(a), set()).add(top(b))
    names = sorted({top(f) for f in mods if not f.endswith('main.rs')})
    floor = {}
    def fl(n, seen=()):
        if n in floor: return floor[n]
        if n in seen: return 0
        floor[n] = 0
        v = 1 + max([fl(d, seen + (n,)) for d in medges.get(n, ())] or [-1])
        floor[n] = v
        return v
    for n in names: fl(n)
    back = [(a, b) for a in medges for b in medges[a] if a in medges.get(b, ())]
    print(f"module-level two-way dependencies: {len(back)//2}")
    for a, b in sorted(back):
        if a < b: print(f"  {a} <-> {b}")
    for f in sorted(set(floor.values())):
        print(f"floor {f}: " + ', '.join(f"{n} (-> {', '.join(sorted(medges.get(n, ()))) or '-'})" for n in names if floor[n] == f))
if '--check' in sys.argv and (out or big): sys.exit(1)
