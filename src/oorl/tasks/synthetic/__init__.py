"""Synthetic verified parallel programs: a typed grammar rendered in 13 languages, judged in the sandbox.

program.py   the grammar, a seeded generator and the reference interpreter
render.py    one idiomatic rendering per language
generate.py  candidates -> verified Problems (every rendering accepted on every test)
"""
