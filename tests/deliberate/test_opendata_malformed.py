"""A malformed-input corpus for openData folders (issue 16): each case breaks a small
valid folder in one way and asserts the exact error ``accord deliberate import`` reports
(file, line, column) and that nothing was written to the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from accord.deliberate import import_opendata
from accord.errors import AccordError
from accord.store import Store

from .stored_helpers import row_counts

BASE = {
    'comments.csv': (
        'timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body,is-meta\n'
        ',,0,,1,3,1,statement 0,0\n'
        ',,1,,2,2,1,statement 1,0\n'
        ',,2,,2,2,1,statement 2,0\n'
    ),
    'votes.csv': (
        'timestamp,datetime,comment-id,voter-id,vote\n'
        '0,Thu Jan 01 00:00:00 UTC 1970,0,0,1\n'
        '1000,Thu Jan 01 00:00:01 UTC 1970,1,0,-1\n'
        '2000,Thu Jan 01 00:00:02 UTC 1970,2,0,-1\n'
        '3000,Thu Jan 01 00:00:03 UTC 1970,0,1,-1\n'
        '4000,Thu Jan 01 00:00:04 UTC 1970,1,1,-1\n'
        '5000,Thu Jan 01 00:00:05 UTC 1970,2,1,1\n'
    ),
    'participants-votes.csv': (
        'participant,group-id,n-comments,n-votes,n-agree,n-disagree,0,1,2\n'
        '0,1,0,3,1,2,1,-1,-1\n'
        '1,,0,3,1,2,-1,-1,1\n'
    ),
    'summary.csv': (
        'topic,test\n'
        'url,\n'
        'views,\n'
        'conversation-description,\n'
    ),
    'accord-participants.csv': (
        'participant,token,region\n'
        '0,tok,north\n'
        '1,,\n'
    ),
}
C, V, P, S, A = ("comments.csv", "votes.csv", "participants-votes.csv", "summary.csv",
                 "accord-participants.csv")
BIG = "9223372036854775808"  # one past the largest signed 64-bit integer
# (file, old, new): replace old (it occurs once) by new; old None deletes the file, old
# "" replaces the whole file. Text is written with surrogateescape, so "\udcff" is the
# byte 0xff.
CASES = [
    pytest.param(C, None, None,
                 ('{dir}/comments.csv: file not found (an openData folder needs comments.csv, '
                  'participants-votes.csv, summary.csv, and votes.csv for the vote history)'),
                 id='comments_missing'),
    pytest.param(P, None, None,
                 ('{dir}/participants-votes.csv: file not found (an openData folder needs '
                  'comments.csv, participants-votes.csv, summary.csv, and votes.csv for the '
                  'vote history)'),
                 id='participants_votes_missing'),
    pytest.param(S, None, None,
                 ('{dir}/summary.csv: file not found (an openData folder needs comments.csv, '
                  'participants-votes.csv, summary.csv, and votes.csv for the vote history)'),
                 id='summary_missing'),
    pytest.param(C, '', '',
                 '{dir}/comments.csv:1: empty file, expected a header row',
                 id='comments_empty'),
    pytest.param(V, '', '',
                 '{dir}/votes.csv:1: empty file, expected a header row',
                 id='votes_empty'),
    pytest.param(C, ',comment-body,', ',body,',
                 ("{dir}/comments.csv:1: header lacks column(s) ['comment-body']; expected "
                  "['comment-id', 'moderated', 'comment-body']"),
                 id='comments_header_lacks_body'),
    pytest.param(V, 'voter-id,vote', 'voter-id,value',
                 ("{dir}/votes.csv:1: header lacks column(s) ['vote']; expected ['timestamp', "
                  "'comment-id', 'voter-id', 'vote']"),
                 id='votes_header_lacks_vote'),
    pytest.param(C, ',,1,,2', ',,one,,2',
                 "{dir}/comments.csv:3: column 'comment-id': 'one' is not an integer id",
                 id='comment_id_not_a_number'),
    pytest.param(C, ',,1,,2', ',,²,,2',
                 "{dir}/comments.csv:3: column 'comment-id': '²' is not an integer id",
                 id='comment_id_superscript'),
    pytest.param(C, ',,1,,2', f",,{BIG},,2",
                 ("{dir}/comments.csv:3: column 'comment-id': 9223372036854775808 is out of range "
                  '(at most 9223372036854775807 in size)'),
                 id='comment_id_beyond_64_bits'),
    pytest.param(C, ',,1,,2', ',,1,4294967296,2',
                 ('{dir}/comments.csv: comment 1: author-id 4294967296 is out of range (at most '
                  '2147483647)'),
                 id='author_id_beyond_32_bits'),
    pytest.param(C, ',,2,,2,2', ',,1,,2,2',
                 "{dir}/comments.csv:4: column 'comment-id': 1 appears twice",
                 id='comment_id_twice'),
    pytest.param(C, '1,statement 1', '5,statement 1',
                 "{dir}/comments.csv:3: column 'moderated': '5' is not one of -1, 0, 1",
                 id='moderated_out_of_set'),
    pytest.param(C, ',,1,,2', ',,1,inf,2',
                 "{dir}/comments.csv:3: column 'author-id': 'inf' is not an integer id or empty",
                 id='author_id_infinite'),
    pytest.param(C, ',,1,,2', ',,1,nan,2',
                 "{dir}/comments.csv:3: column 'author-id': 'nan' is not an integer id or empty",
                 id='author_id_nan'),
    pytest.param(C, ',,1,,2', '1e400,,1,,2',
                 "{dir}/comments.csv:3: column 'timestamp': '1e400' is not milliseconds since 1970",
                 id='timestamp_overflowing_float'),
    pytest.param(C, 'statement 1', 'state\x00ment',
                 ("{dir}/comments.csv:3: column 'comment-body': contains a NUL character "
                  '(U+0000) at character 6; text cannot hold it, remove it'),
                 id='comment_body_nul'),
    pytest.param(C, 'statement 1', 'statement \udcff',
                 '{dir}/comments.csv:3: not UTF-8 text (byte 0xff)',
                 id='comments_not_utf8'),
    pytest.param(C, '1,statement 1,0', '1',
                 "{dir}/comments.csv:3: column 'is-meta' is missing (row has 7 of 9 columns)",
                 id='comment_row_lacks_body'),
    pytest.param(V, '1,0,-1', '1,0,2',
                 ("{dir}/votes.csv:3: column 'vote': 2 is not one of 1 (agree), -1 (disagree), 0 "
                  '(pass)'),
                 id='vote_two'),
    pytest.param(V, '1,0,-1', '1,0,yes',
                 "{dir}/votes.csv:3: column 'vote': 'yes' is not an integer",
                 id='vote_not_a_number'),
    pytest.param(V, '1,0,-1', f"1,{BIG},-1",
                 ("{dir}/votes.csv:3: column 'voter-id': 9223372036854775808 is out of range (at "
                  'most 9223372036854775807 in size)'),
                 id='voter_id_beyond_64_bits'),
    pytest.param(V, '1000,Thu', f"-{BIG}9,Thu",
                 ("{dir}/votes.csv:3: column 'timestamp': -92233720368547758089 is out of "
                  "range (at "
                  'most 9223372036854775807 in size)'),
                 id='vote_timestamp_negative_beyond_64_bits'),
    pytest.param(V, '1,0,-1', '7,0,-1',
                 "{dir}/votes.csv:3: column 'comment-id': statement 7 is not in comments.csv",
                 id='vote_on_unknown_statement'),
    pytest.param(V, '4000,Thu Jan 01 00:00:04 UTC 1970,1,1,-1', '4000,Thu',
                 '{dir}/votes.csv:6: row has 2 columns, the header has 5',
                 id='vote_row_too_short'),
    pytest.param(V, '1,0,-1', '1,0,-1\udcfe',
                 '{dir}/votes.csv:3: not UTF-8 text (byte 0xfe)',
                 id='votes_not_utf8'),
    pytest.param(P, 'n-disagree,0,1,2', 'n-disagree,0,1,x',
                 ("{dir}/participants-votes.csv:1: column 9 is named 'x'; from the first "
                  'comment id on, every column must be a comment id'),
                 id='pv_column_not_a_comment_id'),
    pytest.param(P, 'n-disagree,0,1,2', 'n-disagree,0,1,9',
                 '{dir}/participants-votes.csv:1: column 9: comment 9 is not in comments.csv',
                 id='pv_column_unknown_comment'),
    pytest.param(P, '1,,0,3,1,2,-1,-1,1', '0,,0,3,1,2,-1,-1,1',
                 "{dir}/participants-votes.csv:3: column 'participant': 0 appears twice",
                 id='pv_participant_twice'),
    pytest.param(P, '1,,0,3,1,2,-1,-1,1', '1,,0,3,1,2,-1,-1,0.5',
                 "{dir}/participants-votes.csv:3: column '2': '0.5' is not -1, 0, 1 or empty",
                 id='pv_cell_not_a_vote'),
    pytest.param(P, '0,1,0,3', f"0,{BIG},0,3",
                 ("{dir}/participants-votes.csv:2: column 'group-id': 9223372036854775808 "
                  "is out of "
                  'range (at most 9223372036854775807 in size)'),
                 id='pv_group_beyond_64_bits'),
    pytest.param(P, '1,,0,3,1,2', '1,,0,-inf,1,2',
                 ("{dir}/participants-votes.csv:3: column 'n-votes': '-inf' is not an integer or "
                  'empty'),
                 id='pv_count_infinite'),
    pytest.param(P, 'participant,group-id', 'participant,xid,group-id',
                 ("{dir}/participants-votes.csv:2: column '2' is missing (row has 9 of 10 "
                  'columns)'),
                 id='pv_xid_header_without_cells'),
    pytest.param(P, '0,1,0,3,1,2', '0,1\u202e,0,3,1,2',
                 ("{dir}/participants-votes.csv:2: column 'group-id': '1\\u202e' is not an "
                  'integer group id or empty'),
                 id='pv_group_with_bidi_control'),
    pytest.param(P, 'participant,group-id,n-comments', 'participant,group-id,group-id',
                 "{dir}/participants-votes.csv:1: column 'group-id' appears twice",
                 id='pv_column_twice'),
    pytest.param(C, 'statement 1', 'state\u202ement 1',
                 ("{dir}/comments.csv:3: column 'comment-body': contains a bidirectional "
                  'control character (U+202E RIGHT-TO-LEFT OVERRIDE) at character 6, which '
                  'makes text display differently from what it says; remove it'),
                 id='comment_with_bidi_override'),
    pytest.param(S, 'topic,test', 'topic,te\x00st',
                 ("{dir}/summary.csv:1: column 'topic': contains a NUL character (U+0000) at "
                  'character 3; text cannot hold it, remove it'),
                 id='summary_topic_with_nul'),
    pytest.param('stats-history.csv', '', 'n-votes,n-comments\n1,0\n2,x\n',
                 "{dir}/stats-history.csv:3: column 'n-comments': 'x' is not an integer",
                 id='stats_history_not_a_number'),
    pytest.param('stats-history.csv', '', 'n-votes,n-comments\n1,0\n2\n',
                 '{dir}/stats-history.csv:3: row has 1 columns, the header has 2',
                 id='stats_history_row_too_short'),
    pytest.param(S, 'url,', 'url,a,b',
                 '{dir}/summary.csv:2: expected 2 columns (key, value), got 3',
                 id='summary_three_columns'),
    pytest.param(S, 'views,', 'views,many',
                 "{dir}/summary.csv: 'views' is 'many', not an integer",
                 id='summary_views_not_a_number'),
    pytest.param(S, 'views,', f"views,{BIG}",
                 "{dir}/summary.csv: 'views' is '9223372036854775808', not an integer",
                 id='summary_views_beyond_64_bits'),
    pytest.param(A, 'participant,token,region', 'participant,key,region',
                 ("{dir}/accord-participants.csv:1: header lacks column(s) ['token']; expected "
                  "['participant', 'token']"),
                 id='extra_header_lacks_token'),
    pytest.param(A, '1,,', 'x,,',
                 "{dir}/accord-participants.csv:3: column 'participant': 'x' is not an integer id",
                 id='extra_participant_not_a_number'),
    pytest.param(A, '0,tok,north', "0," + "t" * 300 + ",north",
                 ('{dir}/accord-participants.csv: participant 0: token is longer than 255 '
                  'characters'),
                 id='extra_token_too_long'),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):
    opened = Store.open(f"sqlite:///{tmp_path_factory.mktemp('od-corpus') / 'a.sqlite3'}")
    yield opened
    opened.close()


def _folder(root: Path, file: str, old: str | None, new: str | None) -> Path:
    folder = root / "conv"
    folder.mkdir()
    for name, text in BASE.items():
        (folder / name).write_text(text, encoding="utf-8")
    path = folder / file
    if old is None:
        path.unlink()
    elif old == "":
        path.write_text(new or "", encoding="utf-8")
    else:
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{file}: {old!r} must occur once"
        path.write_bytes(text.replace(old, new or "").encode("utf-8", "surrogateescape"))
    return folder


def test_the_base_folder_imports(tmp_path: Path, store: Store) -> None:
    folder = _folder(tmp_path, C, "statement 0", "statement zero")
    with store.session() as session:
        row = import_opendata(session, folder, name="base")
        assert row.question == "test"
        session.rollback()


@pytest.mark.parametrize(("file", "old", "new", "expected"), CASES)
def test_malformed_folder_is_refused_with_the_exact_error(
        tmp_path: Path, store: Store, file: str, old: str | None, new: str | None,
        expected: str) -> None:
    folder = _folder(tmp_path, file, old, new)
    before = row_counts(store)
    with pytest.raises(AccordError) as caught, store.session() as session:
        import_opendata(session, folder, name="broken")
    assert str(caught.value).replace(str(folder), "{dir}") == expected
    assert row_counts(store) == before


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 30
