"""Run records: what was computed, from what, and how, kept on disk.

- :mod:`~cifar_lessons.records.store`: one folder per run, written atomically, read back, refused
  when it is not this package's;
- :mod:`~cifar_lessons.records.provenance`: what made a run (the source commit, the machine and
  package versions);
- :mod:`~cifar_lessons.records.schema`: the keys every ``record.json`` has (``record.schema.json``);
- :mod:`~cifar_lessons.records.committed`: the full-size records kept in the repository's
  ``results/`` (shipped in the wheel as ``cifar_lessons.measured``), and the ladder of chapter 6.

Nothing here imports TensorFlow until a model is saved or loaded.
"""
