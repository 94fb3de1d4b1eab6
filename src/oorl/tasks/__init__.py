"""Translation problems and tasks.

schema.py       Problem, Harness, Provenance, Solution (shared with the sandbox and evaluation)
translation.py  TranslationTask = (problem, source language, target language); the license gate
prompts.py      the paper's translation prompt, rendered with or without a chat template
answers.py      answer extraction (exactly one fenced block) and harness program assembly
hub.py          one loading path for hub ids and local copies, with row-level errors
apps.py, synthetic1.py, humaneval_x.py, multipl_e.py   dataset loaders
synthetic/      verified synthetic parallel programs in 13 languages
sources.py      sources by name; build.py: de-duplicated, split task sets; cli.py: `oorl data`
"""
