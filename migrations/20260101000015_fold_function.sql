-- Folds Vietnamese text for diacritics-insensitive matching without any extension:
-- lower-cased, every Vietnamese letter mapped to its base ASCII letter (đ to d). Input is NFC
-- (the app normalises everything it stores and every query). The search index (tantivy) does the
-- same folding in Rust (src/domain/text.rs); this SQL twin serves plain-SQL filters.
create function ndp_fold(input text) returns text
language sql immutable strict parallel safe
as $$ select lower(translate(input,
  'àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴĐ',
  'aaaaaaaaaaaaaaaaaeeeeeeeeeeeiiiiiooooooooooooooooouuuuuuuuuuuyyyyydaaaaaaaaaaaaaaaaaeeeeeeeeeeeiiiiiooooooooooooooooouuuuuuuuuuuyyyyyd')) $$;
