"""How the paper writes and sets things, for every part alike.

markup.py        inline marks ($math$, [@key], [#anchor], **bold**, *italic*, `code`)
                 to HTML and to LaTeX; literal() for names as typed
texmath.py       TeX mathematics of the prose checked and typeset as HTML
mathml.py        display equations: TeX for LaTeX, MathML for HTML
latex.py         the characters pdflatex cannot set
blocks.py        paper markup split into blocks (paragraphs, equations, floats, ...)
floats.py        a table as data: anchor, caption, columns, rows
formats.py       numbers, parameters and LaTeX escaping
words.py         counts and lists in words ("3 of 20 runs", "a, b and c")
figure_style.py  the figures' house style (matplotlib)
"""
